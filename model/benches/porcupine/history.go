package main

// Reading replsim's JSON-lines histories (model/src/history/jsonl.rs), one operation a line:
//
//	{"client":1,"call":0,"returned":10,"input":{"Set":{"db":0,"key":"a","value":"1"}},"output":"Ok"}
//	{"client":3,"call":101,"returned":103,"input":{"Get":{"db":0,"key":"a"}},"output":{"Value":null}}
//	{"client":4,"call":20,"returned":null,"input":{"Del":{"db":0,"keys":["a","b"]}},"output":null}
//
// As replsim's reader does, it refuses unknown fields (a misspelt "returned" must not turn a stale
// read into one that never returned), an output without a return time or the reverse, and a
// return before the call.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/anishathalye/porcupine"
)

// lineBytesMax bounds one line: big-values histories hold SETs of megabytes.
const lineBytesMax = 256 << 20

type operationJSON struct {
	Client   uint64          `json:"client"`
	Call     *uint64         `json:"call"`
	Returned *uint64         `json:"returned"`
	Input    json.RawMessage `json:"input"`
	Output   json.RawMessage `json:"output"`
}

type keyCommandJSON struct {
	Db    uint8   `json:"db"`
	Key   *string `json:"key"`
	Value *string `json:"value"`
}

type delJSON struct {
	Db   uint8    `json:"db"`
	Keys []string `json:"keys"`
}

type flushJSON struct {
	Db uint8 `json:"db"`
}

// history is what the checker needs: Porcupine's operations plus the tables the model reads.
type history struct {
	operations []porcupine.Operation
	tables     *tables
	// hasGlobal: some operation is a FLUSHDB or FLUSHALL, so no per-key partition is sound.
	hasGlobal     bool
	neverReturned int
}

// readHistory reads every non-blank line of one replsim JSON-lines history.
func readHistory(file string, reader io.Reader) (*history, error) {
	result := &history{tables: newTables()}
	scanner := bufio.NewScanner(reader)
	scanner.Buffer(make([]byte, 64<<10), lineBytesMax)
	lineNumber := 0
	for scanner.Scan() {
		lineNumber++
		line := bytes.TrimSpace(scanner.Bytes())
		if len(line) == 0 {
			continue
		}
		operation, err := result.parseOperation(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", file, lineNumber, err)
		}
		result.operations = append(result.operations, operation)
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %v", file, lineNumber+1, err)
	}
	return result, nil
}

func decodeStrict(data []byte, into interface{}) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(into); err != nil {
		return err
	}
	if decoder.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

func (h *history) parseOperation(line []byte) (porcupine.Operation, error) {
	var parsed operationJSON
	if err := decodeStrict(line, &parsed); err != nil {
		return porcupine.Operation{}, fmt.Errorf("not a JSON operation: %v", err)
	}
	if parsed.Call == nil {
		return porcupine.Operation{}, fmt.Errorf("no call time")
	}
	if parsed.Returned == nil != isNull(parsed.Output) {
		return porcupine.Operation{}, fmt.Errorf("an operation has an output exactly when it has a return time")
	}
	// Porcupine's times are int64; MaxInt64 is kept for "never returned".
	if *parsed.Call >= math.MaxInt64 || (parsed.Returned != nil && *parsed.Returned >= math.MaxInt64) {
		return porcupine.Operation{}, fmt.Errorf("a time does not fit in int64")
	}
	if parsed.Returned != nil && *parsed.Returned < *parsed.Call {
		return porcupine.Operation{}, fmt.Errorf("returns before it is called")
	}
	if parsed.Client > math.MaxInt32 {
		return porcupine.Operation{}, fmt.Errorf("client %d is too large", parsed.Client)
	}
	input, err := h.parseInput(parsed.Input)
	if err != nil {
		return porcupine.Operation{}, fmt.Errorf("input: %v", err)
	}
	// Porcupine's convention for an operation whose answer never came: it returns at +infinity
	// with an output every step accepts, so it may take effect at any point after its call (or,
	// placed last, never be seen).
	returned := int64(math.MaxInt64)
	output := kvOutput{kind: outputUnknown}
	if parsed.Returned != nil {
		returned = int64(*parsed.Returned)
		if output, err = h.parseOutput(parsed.Output); err != nil {
			return porcupine.Operation{}, fmt.Errorf("output: %v", err)
		}
	} else {
		h.neverReturned++
	}
	return porcupine.Operation{
		ClientId: int(parsed.Client),
		Input:    input,
		Call:     int64(*parsed.Call),
		Output:   output,
		Return:   returned,
	}, nil
}

// onlyVariant reads serde's externally tagged enum: an object with exactly one field.
func onlyVariant(raw json.RawMessage) (string, json.RawMessage, error) {
	var variants map[string]json.RawMessage
	if err := json.Unmarshal(raw, &variants); err != nil {
		return "", nil, err
	}
	if len(variants) != 1 {
		return "", nil, fmt.Errorf("expected one variant, found %d", len(variants))
	}
	for name, body := range variants {
		return name, body, nil
	}
	panic("unreachable: one variant")
}

func (h *history) parseInput(raw json.RawMessage) (kvInput, error) {
	name, body, err := onlyVariant(raw)
	if err != nil {
		return kvInput{}, err
	}
	switch name {
	case "Get", "Set":
		var command keyCommandJSON
		if err := decodeStrict(body, &command); err != nil {
			return kvInput{}, err
		}
		if command.Key == nil || (name == "Set") != (command.Value != nil) {
			return kvInput{}, fmt.Errorf("%s has the wrong fields", name)
		}
		input := kvInput{kind: commandGet, db: command.Db, keys: []keyID{h.tables.key(command.Db, *command.Key)}}
		if name == "Set" {
			input.kind = commandSet
			input.value = h.tables.value(*command.Value)
		}
		return input, nil
	case "Del":
		var command delJSON
		if err := decodeStrict(body, &command); err != nil {
			return kvInput{}, err
		}
		input := kvInput{kind: commandDel, db: command.Db}
		for _, key := range command.Keys {
			input.keys = append(input.keys, h.tables.key(command.Db, key))
		}
		return input, nil
	case "FlushDb", "FlushAll":
		var command flushJSON
		if err := decodeStrict(body, &command); err != nil {
			return kvInput{}, err
		}
		h.hasGlobal = true
		if name == "FlushDb" {
			return kvInput{kind: commandFlushDb, db: command.Db}, nil
		}
		return kvInput{kind: commandFlushAll, db: command.Db}, nil
	}
	return kvInput{}, fmt.Errorf("unknown command %q", name)
}

func (h *history) parseOutput(raw json.RawMessage) (kvOutput, error) {
	if bytes.Equal(raw, []byte(`"Ok"`)) {
		return kvOutput{kind: outputOk}, nil
	}
	name, body, err := onlyVariant(raw)
	if err != nil {
		return kvOutput{}, err
	}
	switch name {
	case "Value":
		if isNull(body) {
			return kvOutput{kind: outputValue, value: valueNil}, nil
		}
		var value string
		if err := json.Unmarshal(body, &value); err != nil {
			return kvOutput{}, err
		}
		return kvOutput{kind: outputValue, value: h.tables.value(value)}, nil
	case "Count":
		var count uint64
		if err := json.Unmarshal(body, &count); err != nil {
			return kvOutput{}, err
		}
		return kvOutput{kind: outputCount, count: count}, nil
	}
	return kvOutput{}, fmt.Errorf("unknown response %q", name)
}
