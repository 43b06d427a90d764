// Draws the run's timeline (the JSON in #data) as SVG: lanes on one simulated-time axis, only
// what is in view, items narrower than a pixel merged into one grey mark. Zoom with the wheel,
// pan by dragging, hover for details. No network, no libraries.
(function () {
  'use strict';
  const D = JSON.parse(document.getElementById('data').textContent);
  const LABEL_W = 178;
  const AXIS_H = 26;
  const HEIGHT = { harness: 24, ops: 22, binlog: 24, thread: 22, worker: 20, offsets: 46 };
  const END = Math.max(D.end, 1000);
  const MIN_SPAN = 1000; // 1 µs
  const chart = document.getElementById('chart');
  const overview = document.getElementById('overview');
  const scroll = document.getElementById('scroll');
  const tip = document.getElementById('tooltip');
  const windowText = document.getElementById('window-text');

  // Layout: one row per lane.
  const laneY = [];
  const laneH = [];
  let chartH = 0;
  function layout() {
    // Lanes grow (up to twice their height) to use the height there is.
    const natural = D.lanes.reduce(function (sum, lane) { return sum + (HEIGHT[lane.kind] || 22); }, 0);
    const room = (scroll.clientHeight || 600) - AXIS_H - 8;
    const grow = Math.max(1, Math.min(2, room / natural));
    laneY.length = 0;
    laneH.length = 0;
    chartH = AXIS_H;
    D.lanes.forEach(function (lane) {
      const height = Math.round((HEIGHT[lane.kind] || 22) * grow);
      laneY.push(chartH);
      laneH.push(height);
      chartH += height;
    });
    chartH += 6;
  }

  // Items of each lane sorted by start; the longest span per lane bounds the search back.
  const byLane = D.lanes.map(function () { return []; });
  D.items.forEach(function (item, index) { byLane[item.lane].push(index); });
  const reach = byLane.map(function (list) {
    list.sort(function (a, b) { return D.items[a].start - D.items[b].start || a - b; });
    let longest = 0;
    list.forEach(function (index) {
      const item = D.items[index];
      longest = Math.max(longest, item.end - Math.min(item.start, item.queued == null ? item.start : item.queued));
    });
    return longest;
  });
  const seriesByLane = D.lanes.map(function () { return []; });
  D.series.forEach(function (series) { seriesByLane[series.lane].push(series); });

  let t0 = 0;
  let t1 = END;
  let pending = false;

  function esc(text) {
    return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }

  function ms(time, decimals) {
    return (time / 1e6).toFixed(decimals) + ' ms';
  }

  function firstAtOrAfter(list, time, key) {
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (key(list[middle]) < time) low = middle + 1; else high = middle;
    }
    return low;
  }

  function plotWidth() {
    return Math.max(200, scroll.clientWidth - LABEL_W);
  }

  function render() {
    const began = window.performance.now();
    pending = false;
    layout();
    const width = LABEL_W + plotWidth();
    const scale = plotWidth() / (t1 - t0);
    const X = function (time) { return LABEL_W + (time - t0) * scale; };
    const clampX = function (x) { return Math.max(LABEL_W - 4, Math.min(width + 4, x)); };
    const out = [];
    let drawn = 0;

    // Lane stripes, then fault bands beneath everything that can be hovered.
    D.lanes.forEach(function (lane, index) {
      out.push('<rect class="lane-bg' + (index % 2 ? ' odd' : '') + '" x="0" y="' + laneY[index] + '" width="' + width +
        '" height="' + laneH[index] + '"/>');
    });
    axis(out, X, width, scale);
    D.bands.forEach(function (band) {
      if (band.end < t0 || band.start > t1) return;
      const a = clampX(X(band.start));
      const b = clampX(Math.max(X(band.end), X(band.start) + 2));
      out.push('<rect class="band" data-tip="' + esc(band.label + ': ' + ms(band.start, 3) + ' to ' + ms(band.end, 3)) +
        '" x="' + a.toFixed(1) + '" y="' + AXIS_H + '" width="' + (b - a).toFixed(1) + '" height="' + (chartH - AXIS_H) + '"/>');
    });

    D.lanes.forEach(function (lane, laneIndex) {
      if (lane.kind === 'offsets') {
        drawn += offsets(out, laneIndex, X, width);
        return;
      }
      const list = byLane[laneIndex];
      const laneStart = out.length;
      const top = laneY[laneIndex];
      const height = laneH[laneIndex];
      let dense = null;
      let labelsBlockedUntil = -Infinity;
      const spans = [];
      const flush = function () {
        if (!dense) return;
        if (dense.count === 1) {
          item(dense.first, dense.x0, dense.x1, dense.next);
        } else {
          const a = clampX(dense.x0 - 1);
          const b = clampX(dense.x1 + 1);
          out.push('<rect class="it dense ' + D.items[dense.first].kind + '" data-n="' + dense.count + '" data-span="' + esc(ms(D.items[dense.first].start, 3) +
            ' to ' + ms(D.items[dense.last].end, 3)) + '" x="' + a.toFixed(1) + '" y="' + (top + 4) + '" width="' +
            Math.max(2, b - a).toFixed(1) + '" height="' + (height - 8) + '"/>');
          drawn += 1;
        }
        dense = null;
      };
      const item = function (index, xa, xb, nextX) {
        const it = D.items[index];
        const flags = it.flags || 0;
        let cls = 'it ' + it.kind;
        if (flags & 1) cls += ' overtaker';
        if (flags & 2) cls += ' overtaken';
        const extra = flags ? ' data-offset="' + it.offset + '" data-label="' + esc(it.label) + '"' : '';
        const middle = top + height / 2;
        if (it.queued != null && it.queued < it.start && X(it.queued) < xa - 1) {
          spans.push('<line class="queued" data-i="' + index + '" x1="' + clampX(X(it.queued)).toFixed(1) + '" y1="' + middle +
            '" x2="' + clampX(xa).toFixed(1) + '" y2="' + middle + '"/>');
        }
        const instant = xb - xa < 2;
        const inset = flags ? 2 : 3;
        if (instant) {
          const w = flags ? 5 : 2;
          out.push('<rect class="' + cls + '" data-i="' + index + '"' + extra + ' x="' + (xa - w / 2).toFixed(1) + '" y="' +
            (top + inset) + '" width="' + w + '" height="' + (height - 2 * inset) + '"/>');
        } else {
          const a = clampX(xa);
          const b = clampX(xb);
          out.push('<rect class="' + cls + '" data-i="' + index + '"' + extra + ' x="' + a.toFixed(1) + '" y="' + (top + inset) +
            '" width="' + Math.max(2, b - a).toFixed(1) + '" height="' + (height - 2 * inset) + '" rx="2"/>');
        }
        drawn += 1;
        // A label inside a wide enough span, or right of an instant with room before the next one.
        const onFill = flags & 1 ? ' on-highlight' : ' on-overtaken';
        const textCls = 'it-label' + (flags ? (instant ? ' bold' : onFill) : '');
        const textX = instant ? xa + 4 : Math.max(xa, LABEL_W) + 3;
        if (textX < labelsBlockedUntil) return;
        // A highlighted instant's label is always shown whole, and later labels make way for it.
        const whole = flags && instant;
        const room = whole ? Infinity : instant ? Math.min(nextX, width) - textX - 4 : Math.min(xb, width) - textX - 2;
        const chars = Math.floor(room / 6.1);
        if (chars >= 3 || (flags && chars >= 1)) {
          let text = it.label;
          if (text.length > chars) text = chars > 1 ? text.slice(0, chars - 1) + '…' : text.slice(0, 1);
          out.push('<text class="' + textCls + (whole ? ' halo' : '') + '" x="' + textX.toFixed(1) + '" y="' + (middle + 3.5) + '">' +
            esc(text) + '</text>');
          if (whole) labelsBlockedUntil = textX + text.length * 6.6 + 4;
        }
      };
      const first = firstAtOrAfter(list, t0 - reach[laneIndex], function (index) { return D.items[index].start; });
      for (let j = first; j < list.length; j++) {
        const index = list[j];
        const it = D.items[index];
        if (it.start > t1) break;
        if (it.end < t0) continue;
        const xa = X(it.start);
        const xb = X(it.end);
        const next = j + 1 < list.length ? X(D.items[list[j + 1]].start) : width;
        if (!it.flags && xb - xa < 3 && it.queued == null) {
          if (dense && xa <= dense.x1 + 2) {
            dense.x1 = Math.max(dense.x1, xb);
            dense.count += 1;
            dense.last = index;
            dense.next = next;
            continue;
          }
          flush();
          dense = { x0: xa, x1: xb, count: 1, first: index, last: index, next: next };
          continue;
        }
        flush();
        item(index, xa, xb, next);
      }
      flush();
      // Waits under the spans they lead to.
      out.splice.apply(out, [laneStart, 0].concat(spans));
    });

    // Violation labels take the first of two rows where they fit, else only their tooltip.
    const labelRowsEnd = [-Infinity, -Infinity];
    D.marks.forEach(function (mark) {
      if (mark.at < t0 || mark.at > t1) return;
      const x = X(mark.at).toFixed(1);
      out.push('<line class="mark ' + mark.kind + '" x1="' + x + '" y1="' + AXIS_H + '" x2="' + x + '" y2="' + chartH + '"/>');
      out.push('<line stroke="transparent" stroke-width="7" data-tip="' + esc(mark.label + ' at ' + ms(mark.at, 6)) + '" x1="' + x +
        '" y1="' + AXIS_H + '" x2="' + x + '" y2="' + chartH + '"/>');
      if (mark.kind === 'violation') {
        // Right of the line, or left of it near the right edge.
        const textWidth = mark.label.length * 6.3;
        const left = X(mark.at) > width - textWidth - 10;
        const from = left ? X(mark.at) - 4 - textWidth : X(mark.at) + 4;
        const row = labelRowsEnd.findIndex(function (end) { return from > end + 6; });
        if (row < 0) return;
        labelRowsEnd[row] = from + textWidth;
        out.push('<text class="mark-label violation" text-anchor="' + (left ? 'end' : 'start') + '" x="' +
          (X(mark.at) + (left ? -4 : 4)).toFixed(1) + '" y="' + (laneY[0] + 12 + row * 12) + '">' + esc(mark.label) + '</text>');
      }
    });
    overtakingLink(out, X);

    // Lane names over a solid column, so spans scrolled left of the plot are hidden.
    out.push('<rect class="label-bg" x="0" y="0" width="' + LABEL_W + '" height="' + chartH + '"/>');
    D.lanes.forEach(function (lane, index) {
      out.push('<text class="lane-name" x="8" y="' + (laneY[index] + laneH[index] / 2 + 4) + '">' + esc(lane.name) + '</text>');
    });
    out.push('<line id="hair" class="hair" x1="-10" x2="-10" y1="0" y2="' + chartH + '"/>');
    chart.setAttribute('width', width);
    chart.setAttribute('height', chartH);
    chart.setAttribute('viewBox', '0 0 ' + width + ' ' + chartH);
    chart.innerHTML = out.join('');
    document.body.setAttribute('data-drawn', String(drawn));
    document.body.setAttribute('data-rendered', 'yes');
    document.body.setAttribute('data-render-ms', (window.performance.now() - began).toFixed(1));
    drawOverview();
    windowText.textContent = 'view ' + ms(t0, 3) + ' – ' + ms(t1, 3) + ' (' + ms(t1 - t0, 3) + ' of ' + ms(D.end, 1) + ')';
  }

  function axis(out, X, width, scale) {
    const span = t1 - t0;
    const raw = span / Math.max(1, (width - LABEL_W) / 110);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(function (m) { return m * power; }).find(function (s) { return s >= raw; });
    const decimals = Math.max(0, Math.ceil(-Math.log10(step / 1e6)));
    out.push('<g class="axis">');
    for (let time = Math.ceil(t0 / step) * step; time <= t1; time += step) {
      const x = X(time).toFixed(1);
      out.push('<line x1="' + x + '" y1="' + (AXIS_H - 6) + '" x2="' + x + '" y2="' + chartH + '"/>');
      out.push('<text x="' + (X(time) + 3).toFixed(1) + '" y="' + (AXIS_H - 9) + '">' + ms(time, decimals) + '</text>');
    }
    out.push('</g>');
    void scale;
  }

  // Step lines of offsets over time, scaled to the values in view; INFO replication answers as dots.
  function offsets(out, laneIndex, X, width) {
    const top = laneY[laneIndex];
    const height = laneH[laneIndex];
    const visible = [];
    let low = Infinity;
    let high = -Infinity;
    seriesByLane[laneIndex].forEach(function (series) {
      const points = series.points;
      if (!points.length) return;
      let first = firstAtOrAfter(points, t0, function (point) { return point[0]; });
      if (first > 0) first -= 1;
      let last = firstAtOrAfter(points, t1, function (point) { return point[0]; });
      last = Math.min(points.length - 1, last);
      if (points[first][0] > t1) return;
      for (let j = first; j <= last; j++) {
        low = Math.min(low, points[j][1]);
        high = Math.max(high, points[j][1]);
      }
      visible.push({ series: series, first: first, last: last });
    });
    const infos = byLane[laneIndex].filter(function (index) {
      const it = D.items[index];
      return it.start >= t0 && it.start <= t1;
    });
    infos.forEach(function (index) {
      low = Math.min(low, D.items[index].offset);
      high = Math.max(high, D.items[index].offset);
    });
    if (low === Infinity) return 0;
    if (high === low) { high += 1; low = Math.max(0, low - 1); }
    const Y = function (value) { return top + height - 5 - (value - low) / (high - low) * (height - 12); };
    const clampX = function (x) { return Math.max(LABEL_W, Math.min(width, x)); };
    let drawn = 0;
    visible.forEach(function (entry) {
      const points = entry.series.points;
      let path = 'M' + clampX(X(points[entry.first][0])).toFixed(1) + ' ' + Y(points[entry.first][1]).toFixed(1);
      let lastX = -1;
      for (let j = entry.first + 1; j <= entry.last; j++) {
        const x = clampX(X(points[j][0]));
        if (x - lastX >= 0.5 || j === entry.last) path += 'H' + x.toFixed(1);
        path += 'V' + Y(points[j][1]).toFixed(1);
        lastX = x;
      }
      path += 'H' + clampX(Math.min(X(END), width)).toFixed(1);
      out.push('<path class="series ' + entry.series.kind.replace(/ /g, '-') + '" data-tip="' + esc(entry.series.name +
        ' offset (step line)') + '" d="' + path + '"/>');
      drawn += 1;
    });
    infos.forEach(function (index) {
      const it = D.items[index];
      out.push('<circle class="it info" data-i="' + index + '" cx="' + X(it.start).toFixed(1) + '" cy="' + Y(it.offset).toFixed(1) +
        '" r="3.5"/>');
      drawn += 1;
    });
    out.push('<text class="series-scale" x="' + (LABEL_W + 3) + '" y="' + (top + 10) + '">' + high + '</text>');
    out.push('<text class="series-scale" x="' + (LABEL_W + 3) + '" y="' + (top + height - 3) + '">' + low + '</text>');
    return drawn;
  }

  // An arrow from the apply that finished first to the one it overtook.
  function overtakingLink(out, X) {
    if (!D.overtaking) return;
    const find = function (flag, applied) {
      return D.items.find(function (it) { return it.kind === 'apply' && (it.flags & flag) && it.end === applied; });
    };
    const first = find(1, D.overtaking.overtaker.applied);
    const second = find(2, D.overtaking.overtaken.applied);
    if (!first || !second) return;
    const xa = X(first.end);
    const ya = laneY[first.lane] + laneH[first.lane] / 2;
    const xb = X(second.end);
    const yb = laneY[second.lane] + laneH[second.lane] / 2;
    if (Math.max(xa, xb) < LABEL_W || Math.min(xa, xb) > LABEL_W + plotWidth()) return;
    const bend = Math.max(24, Math.abs(xb - xa) / 3);
    out.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">' +
      '<path d="M0 0L10 5L0 10z" fill="#111"/></marker></defs>');
    out.push('<path class="link" marker-end="url(#arrow)" d="M' + (xa + 2).toFixed(1) + ' ' + ya + ' C' + (xa + bend).toFixed(1) + ' ' +
      ya + ' ' + (xb + bend).toFixed(1) + ' ' + yb + ' ' + (xb + 3).toFixed(1) + ' ' + yb + '"/>');
    out.push('<text class="link-label" x="' + (Math.max(xa, xb) + bend * 0.55).toFixed(1) + '" y="' + ((ya + yb) / 2 + 4).toFixed(1) +
      '">' + esc(D.overtaking.overtaker.offset + ' applied before ' + D.overtaking.overtaken.offset) + '</text>');
  }

  // The whole run: item density, faults, the violation, and the window in view.
  let densityWidth = 0;
  let density = [];
  function drawOverview() {
    const width = overview.clientWidth || (LABEL_W + plotWidth());
    const plot = width - LABEL_W;
    if (plot <= 0) return;
    if (densityWidth !== plot) {
      densityWidth = plot;
      density = new Array(plot).fill(0);
      D.items.forEach(function (it) {
        const column = Math.min(plot - 1, Math.max(0, Math.floor(it.start / END * plot)));
        density[column] += 1;
      });
    }
    const peak = Math.max.apply(null, density.concat([1]));
    const OX = function (time) { return LABEL_W + time / END * plot; };
    const out = ['<text class="lane-name" x="8" y="21">whole run</text>'];
    D.bands.forEach(function (band) {
      out.push('<rect class="band" x="' + OX(band.start).toFixed(1) + '" y="0" width="' + Math.max(2, OX(band.end) - OX(band.start)).toFixed(1) +
        '" height="34"/>');
    });
    let path = '';
    density.forEach(function (count, column) {
      if (!count) return;
      const h = Math.max(1, Math.log(1 + count) / Math.log(1 + peak) * 28);
      path += 'M' + (LABEL_W + column + 0.5) + ' 32V' + (32 - h).toFixed(1);
    });
    out.push('<path class="ov-density" stroke="#b9c0cc" d="' + path + '"/>');
    D.marks.forEach(function (mark) {
      if (mark.kind !== 'violation') return;
      out.push('<line class="ov-violation" x1="' + OX(mark.at).toFixed(1) + '" x2="' + OX(mark.at).toFixed(1) + '" y1="0" y2="34"/>');
    });
    const a = OX(Math.max(0, t0));
    const b = OX(Math.min(END, t1));
    out.push('<rect class="ov-window" x="' + a.toFixed(1) + '" y="1" width="' + Math.max(3, b - a).toFixed(1) + '" height="32"/>');
    overview.setAttribute('viewBox', '0 0 ' + width + ' 34');
    overview.innerHTML = out.join('');
  }

  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(render);
  }

  function setView(start, end) {
    const margin = END * 0.02;
    let span = Math.max(MIN_SPAN, end - start);
    let middle = (start + end) / 2;
    if (span >= END + 2 * margin) {
      span = END + 2 * margin;
      middle = END / 2;
    }
    start = middle - span / 2;
    end = middle + span / 2;
    if (start < -margin) { end += -margin - start; start = -margin; }
    if (end > END + margin) { start -= end - END - margin; end = END + margin; }
    t0 = start;
    t1 = end;
    schedule();
  }

  function zoomAt(time, factor) {
    setView(time - (time - t0) * factor, time + (t1 - time) * factor);
  }

  function timeAt(x) {
    return t0 + (x - LABEL_W) / plotWidth() * (t1 - t0);
  }

  // Where the failure is: the highlighted entries (and the violation, if near), else the violation.
  function failureWindow() {
    let start = Infinity;
    let end = -Infinity;
    D.items.forEach(function (it) {
      if (!it.flags || it.kind === 'op' || it.kind === 'op-unknown') return;
      start = Math.min(start, it.queued == null ? it.start : Math.min(it.queued, it.start));
      end = Math.max(end, it.end);
    });
    const violation = D.marks.find(function (mark) { return mark.kind === 'violation'; });
    if (start === Infinity) {
      if (!violation) return [0, END];
      const half = Math.min(END / 2, 10e6);
      return [violation.at - half, violation.at + half];
    }
    const span = Math.max(end - start, 200e3);
    if (violation && violation.at >= end && violation.at - end < 3 * span) end = violation.at;
    const padding = Math.max((end - start) * 0.25, 100e3);
    return [start - padding, end + padding];
  }

  function showFailure() {
    const view = failureWindow();
    setView(view[0], view[1]);
  }

  // Interaction.
  chart.addEventListener('wheel', function (event) {
    event.preventDefault();
    const rect = chart.getBoundingClientRect();
    if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
      const delta = (event.deltaX || event.deltaY) / plotWidth() * (t1 - t0);
      setView(t0 + delta, t1 + delta);
    } else {
      zoomAt(timeAt(event.clientX - rect.left), Math.exp(event.deltaY * 0.0015));
    }
  }, { passive: false });

  let drag = null;
  chart.addEventListener('mousedown', function (event) {
    if (event.button !== 0) return;
    drag = { x: event.clientX, t0: t0, t1: t1 };
    chart.classList.add('dragging');
    event.preventDefault();
  });
  window.addEventListener('mousemove', function (event) {
    if (!drag) return;
    const delta = -(event.clientX - drag.x) / plotWidth() * (drag.t1 - drag.t0);
    setView(drag.t0 + delta, drag.t1 + delta);
  });
  window.addEventListener('mouseup', function () {
    drag = null;
    chart.classList.remove('dragging');
  });
  chart.addEventListener('dblclick', function (event) {
    const rect = chart.getBoundingClientRect();
    zoomAt(timeAt(event.clientX - rect.left), event.shiftKey ? 2 : 0.5);
  });

  chart.addEventListener('mousemove', function (event) {
    const rect = chart.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const hair = document.getElementById('hair');
    if (hair && x > LABEL_W) {
      hair.setAttribute('x1', x);
      hair.setAttribute('x2', x);
    }
    const target = event.target.closest ? event.target.closest('[data-i],[data-tip],[data-n]') : null;
    let text = '';
    if (target && target.hasAttribute('data-i')) {
      text = D.items[Number(target.getAttribute('data-i'))].detail;
    } else if (target && target.hasAttribute('data-n')) {
      text = target.getAttribute('data-n') + ' items, ' + target.getAttribute('data-span') + ': zoom in to tell them apart';
    } else if (target) {
      text = target.getAttribute('data-tip');
    }
    if (x > LABEL_W) text = (text ? text + '\n' : '') + 'cursor at ' + ms(timeAt(x), 6);
    if (drag || !text) {
      tip.hidden = true;
      return;
    }
    tip.textContent = text;
    tip.hidden = false;
    const left = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    const top = event.clientY + 16 + tip.offsetHeight > window.innerHeight ? event.clientY - tip.offsetHeight - 10 : event.clientY + 16;
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
  });
  chart.addEventListener('mouseleave', function () { tip.hidden = true; });

  let overviewDrag = false;
  const moveTo = function (event) {
    const rect = overview.getBoundingClientRect();
    const time = (event.clientX - rect.left - LABEL_W) / (rect.width - LABEL_W) * END;
    const span = t1 - t0;
    setView(time - span / 2, time + span / 2);
  };
  overview.addEventListener('mousedown', function (event) { overviewDrag = true; moveTo(event); event.preventDefault(); });
  window.addEventListener('mousemove', function (event) { if (overviewDrag) moveTo(event); });
  window.addEventListener('mouseup', function () { overviewDrag = false; });

  document.getElementById('fit').addEventListener('click', function () { setView(0, END); });
  document.getElementById('zoom-in').addEventListener('click', function () { zoomAt((t0 + t1) / 2, 0.5); });
  document.getElementById('zoom-out').addEventListener('click', function () { zoomAt((t0 + t1) / 2, 2); });
  const goFailure = document.getElementById('go-failure');
  if (goFailure) goFailure.addEventListener('click', showFailure);
  document.addEventListener('keydown', function (event) {
    if (event.target !== document.body) return;
    const span = t1 - t0;
    if (event.key === '+' || event.key === '=') zoomAt((t0 + t1) / 2, 0.5);
    else if (event.key === '-') zoomAt((t0 + t1) / 2, 2);
    else if (event.key === '0') setView(0, END);
    else if (event.key === 'f') showFailure();
    else if (event.key === 'ArrowLeft') setView(t0 - span * 0.2, t1 - span * 0.2);
    else if (event.key === 'ArrowRight') setView(t0 + span * 0.2, t1 + span * 0.2);
  });
  window.addEventListener('resize', schedule);

  // First frame synchronously, at the failure (or the whole run, for `#whole`): a headless
  // browser's DOM dump sees it drawn.
  const initial = window.location.hash === '#whole' ? [0, END] : failureWindow();
  setView(initial[0], initial[1]);
  render();
})();
