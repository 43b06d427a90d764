//! A failing run as one self-contained HTML page: every lane of the run on one simulated-time
//! axis, the entry that overtook another highlighted, the diff beside it. No network, no assets:
//! the CSS, the script and the run's data are inlined, so the file can be mailed or attached to
//! an issue as it is.
//!
//! ```no_run
//! use replsim_scenarios::runner::{run_case, Case, RunOptions};
//! use replsim_scenarios::{html_report, scenario::Scenario};
//! use replsim_sim::config::ApplyMode;
//! let case = Case::new(&Scenario::by_name("flushdb-race").unwrap(), ApplyMode::HashByKey, 7);
//! let verdict = run_case(&case, RunOptions { keep_trace: true, ..RunOptions::default() });
//! let html = html_report::render_html(&verdict).unwrap();
//! std::fs::write(html_report::file_name(&case), html).unwrap();
//! ```
//!
//! The page draws with SVG and only what is in view (items narrower than a pixel merge into one
//! mark), so a 2,000-operation run stays responsive; [`timeline`] holds the data it draws.

pub mod timeline;

use std::fmt::Write;

use crate::runner::{Case, Verdict};

const PAGE: &str = include_str!("page.html");
const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the run kept no trace: run it with RunOptions {{ keep_trace: true, .. }} to draw it")]
    NoTrace,
    #[error("cannot encode the report's data: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The report of one run (any outcome; a failure is what it is made for).
pub fn render_html(verdict: &Verdict) -> Result<String, ReportError> {
    let trace = verdict.trace.as_deref().ok_or(ReportError::NoTrace)?;
    let timeline = timeline::build(verdict, trace);
    // Inside <script type="application/json">, only "</" could end the element early: JSON allows
    // "<" escaped in strings, and "<" appears nowhere else in JSON.
    let data = serde_json::to_string(&timeline)?.replace('<', "\\u003c");
    let title = escape(&format!("replsim: {}", timeline.headline));
    let panel = panel(&timeline);
    let values = [("TITLE", title.as_str()), ("STYLE", STYLE), ("PANEL", &panel), ("SCRIPT", SCRIPT), ("DATA", &data)];
    Ok(fill(PAGE, &values))
}

/// Replaces each `{{NAME}}` of `template` with its value, scanning the template only, so a value
/// that happens to contain `{{…}}` (a key in a diff) stays as it is.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut filled = String::with_capacity(template.len() + values.iter().map(|(_, value)| value.len()).sum::<usize>());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else { break };
        let name = &rest[open + 2..open + close];
        filled.push_str(&rest[..open]);
        match values.iter().find(|(known, _)| *known == name) {
            Some((_, value)) => filled.push_str(value),
            None => filled.push_str(&rest[open..open + close + 2]),
        }
        rest = &rest[open + close + 2..];
    }
    filled.push_str(rest);
    filled
}

/// A report's file name: scenario, mode, planted bug and seed, e.g.
/// `flushdb-race-hash-by-key-seed-7.html`.
pub fn file_name(case: &Case) -> String {
    let bug = case.cluster.bug.map(|bug| format!("-bug-{bug}")).unwrap_or_default();
    format!("{}-{}{bug}-seed-{}.html", case.scenario, case.mode, case.seed)
}

/// The side panel, rendered here so it reads without the script: verdict, overtaking, diff, repro.
fn panel(timeline: &timeline::Timeline) -> String {
    let mut html = String::new();
    let status = timeline.headline.split_whitespace().next().unwrap_or("");
    let _ = write!(html, "<h1 class=\"status-{}\">{}</h1>", escape(&status.to_lowercase()), escape(&timeline.headline));
    if let Some(overtaking) = &timeline.overtaking {
        let _ = write!(
            html,
            "<section id=\"overtaking\"><h2>What ran out of order</h2>\
             <p class=\"entry first\"><span class=\"chip\"></span><b>{}</b> at offset {} <i>ran first</i></p>\
             <p class=\"entry second\"><span class=\"chip\"></span><b>{}</b> at offset {} <i>was overtaken</i></p>\
             <p id=\"sentence\">{}</p>\
             <button id=\"go-failure\" type=\"button\">Show the overtaking</button></section>",
            escape(&overtaking.overtaker.command),
            overtaking.overtaker.offset,
            escape(&overtaking.overtaken.command),
            overtaking.overtaken.offset,
            escape(&overtaking.sentence),
        );
    }
    if !timeline.verdict.is_empty() {
        let _ = write!(
            html,
            "<section><h2>Verdict and diff</h2><pre id=\"diff\">{}</pre></section>",
            escape(&timeline.verdict)
        );
    }
    let _ = write!(html, "<section><h2>Reproduce</h2><pre id=\"repro\">{}</pre></section>", escape(&timeline.repro));
    html
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_and_values_are_not_rescanned() {
        let filled = fill("<t>{{A}}</t>{{B}}{{C}}", &[("A", "{{B}}"), ("B", "b")]);
        assert_eq!(filled, "<t>{{B}}</t>b{{C}}");
    }

    #[test]
    fn markup_in_data_cannot_close_the_script_element() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        let data = serde_json::to_string(&"</script><script>alert(1)</script>").unwrap().replace('<', "\\u003c");
        assert!(!data.contains("</"), "{data}");
        assert_eq!(serde_json::from_str::<String>(&data).unwrap(), "</script><script>alert(1)</script>");
    }
}
