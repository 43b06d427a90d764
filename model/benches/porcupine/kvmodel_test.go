package main

// Hand-written histories whose answer is known, named NAME.ok.jsonl or NAME.illegal.jsonl;
// validate.sh also runs replsim check on them, so the two models are held to the same answers.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

func checkFile(t *testing.T, file string) (porcupine.CheckResult, *history) {
	t.Helper()
	reader, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	h, err := readHistory(file, reader)
	if err != nil {
		t.Fatal(err)
	}
	return porcupine.CheckOperationsTimeout(newKvModel(h), h.operations, 10*time.Second), h
}

func TestHandWrittenHistoriesGetTheVerdictTheirNameSays(t *testing.T) {
	files, err := filepath.Glob("testdata/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		expected := porcupine.Ok
		if strings.HasSuffix(file, ".illegal.jsonl") {
			expected = porcupine.Illegal
		}
		if result, _ := checkFile(t, file); result != expected {
			t.Errorf("%s: Porcupine says %s, expected %s", file, result, expected)
		}
	}
}

func TestAFlushdbPutsTheWholeStoreInOnePartition(t *testing.T) {
	_, h := checkFile(t, "testdata/flushdb-is-one-point.illegal.jsonl")
	if model := newKvModel(h); model.Partition != nil {
		t.Fatal("a history with FLUSHDB must not be partitioned by key")
	}
}

func TestATwoKeyDelJoinsItsKeysPartitions(t *testing.T) {
	_, h := checkFile(t, "testdata/read-after-two-key-del.illegal.jsonl")
	model := newKvModel(h)
	if model.Partition == nil {
		t.Fatal("a history without flushes is partitioned by key")
	}
	if partitions := model.Partition(h.operations); len(partitions) != 1 {
		t.Fatalf("DEL a b joins a and b: expected 1 partition, got %d", len(partitions))
	}
}

func TestTheReaderRefusesWhatReplsimRefuses(t *testing.T) {
	for name, line := range map[string]string{
		"misspelt field":        `{"client":1,"call":0,"retruned":10,"input":{"Get":{"db":0,"key":"a"}},"output":{"Value":null}}`,
		"output without return": `{"client":1,"call":0,"returned":null,"input":{"Get":{"db":0,"key":"a"}},"output":{"Value":null}}`,
		"return before call":    `{"client":1,"call":9,"returned":8,"input":{"Get":{"db":0,"key":"a"}},"output":{"Value":null}}`,
		"unknown command":       `{"client":1,"call":0,"returned":8,"input":{"Incr":{"db":0,"key":"a"}},"output":"Ok"}`,
	} {
		if _, err := readHistory(name, strings.NewReader(line)); err == nil {
			t.Errorf("%s: read without an error", name)
		}
	}
}
