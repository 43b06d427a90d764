// Command porcupine-check checks a replsim JSON-lines history with Porcupine
// (github.com/anishathalye/porcupine) under replsim's kv model, to put Porcupine's time beside
// `replsim check FILE --model kv` on the same file (issue #12):
//
//	cd model/benches/porcupine
//	go build -o porcupine-check .   # needs Porcupine's source at ./porcupine-src (README.md)
//	../../../target/release/examples/generate_history bench-2000/5x2000 1 > h.jsonl   # 5 clients
//	./porcupine-check -timeout 20s h.jsonl
//	h.jsonl: ok (Porcupine, 1 partition: FLUSHDB/FLUSHALL present, the whole store is one state)
//	2000 operations (0 never returned) read in 22.5 ms, checked in 18.0 ms
//
// Exit status as replsim check's: 0 linearizable, 1 not, 3 unknown (Porcupine timed out), 2 the
// file could not be read.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/anishathalye/porcupine"
)

const (
	exitLinearizable    = 0
	exitNotLinearizable = 1
	exitUsage           = 2
	exitUnknown         = 3
)

func main() {
	timeout := flag.Duration("timeout", 20*time.Second, "give up with \"unknown\" after this long (0: never)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: porcupine-check [-timeout 20s] FILE.jsonl")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(exitUsage)
	}
	file := flag.Arg(0)
	os.Exit(run(file, *timeout))
}

func run(file string, timeout time.Duration) int {
	readStarted := time.Now()
	reader, err := os.Open(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitUsage
	}
	defer reader.Close()
	h, err := readHistory(file, reader)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitUsage
	}
	readTime := time.Since(readStarted)

	model := newKvModel(h)
	partitions := describePartitions(h, model)
	checkStarted := time.Now()
	result := porcupine.CheckOperationsTimeout(model, h.operations, timeout)
	checkTime := time.Since(checkStarted)

	exitCode := exitUnknown
	verdict := fmt.Sprintf("unknown (Porcupine timed out after %v)", timeout)
	switch result {
	case porcupine.Ok:
		exitCode, verdict = exitLinearizable, "ok"
	case porcupine.Illegal:
		exitCode, verdict = exitNotLinearizable, "illegal"
	}
	fmt.Printf("%s: %s (Porcupine, %s)\n", file, verdict, partitions)
	fmt.Printf("%d operations (%d never returned) read in %.1f ms, checked in %.1f ms\n",
		len(h.operations), h.neverReturned, milliseconds(readTime), milliseconds(checkTime))
	return exitCode
}

func describePartitions(h *history, model porcupine.Model) string {
	if model.Partition == nil {
		return "1 partition: FLUSHDB/FLUSHALL present, the whole store is one state"
	}
	return fmt.Sprintf("%d partition(s) by key", len(model.Partition(h.operations)))
}

func milliseconds(duration time.Duration) float64 {
	return float64(duration.Microseconds()) / 1000
}
