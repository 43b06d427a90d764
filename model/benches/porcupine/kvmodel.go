package main

// replsim's kv model (model/src/linearizability/kv.rs) as a Porcupine model: GET, SET, DEL of
// several keys answering how many existed, FLUSHDB of one database, FLUSHALL, all per database.
//
//	client 1  |--SET a 1--|      |--GET a -> nil--|
//	client 2        |------FLUSHDB------|
//
// linearizable: SET a 1, FLUSHDB, GET a -> nil.
//
// Keys and values are interned to small integers when the history is read, so a state is a
// short sorted slice of (key, value) pairs for the keys that exist, compared and hashed cheaply.

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"
)

type keyID int32
type valueID int32

// valueNil is a GET's answer for a key that does not exist; interned values start at 1.
const valueNil valueID = 0

type commandKind uint8

const (
	commandGet commandKind = iota
	commandSet
	commandDel
	commandFlushDb
	commandFlushAll
)

type kvInput struct {
	kind commandKind
	db   uint8
	// keys: one for GET and SET, the named keys in order for DEL, none for the flushes.
	keys  []keyID
	value valueID // SET only
}

type outputKind uint8

const (
	// outputUnknown: the operation never returned; every step accepts it.
	outputUnknown outputKind = iota
	outputOk
	outputValue
	outputCount
)

type kvOutput struct {
	kind  outputKind
	value valueID // outputValue
	count uint64  // outputCount
}

// tables interns one history's (db, key) pairs and values.
type tables struct {
	keyIDs     map[dbKey]keyID
	keyDbs     []uint8 // by keyID
	keyNames   []string
	valueIDs   map[string]valueID
	valueNames []string // by valueID; [0] is nil
}

type dbKey struct {
	db  uint8
	key string
}

func newTables() *tables {
	return &tables{keyIDs: map[dbKey]keyID{}, valueIDs: map[string]valueID{}, valueNames: []string{"nil"}}
}

func (t *tables) key(db uint8, key string) keyID {
	if id, found := t.keyIDs[dbKey{db, key}]; found {
		return id
	}
	id := keyID(len(t.keyDbs))
	t.keyIDs[dbKey{db, key}] = id
	t.keyDbs = append(t.keyDbs, db)
	t.keyNames = append(t.keyNames, key)
	return id
}

func (t *tables) value(value string) valueID {
	if id, found := t.valueIDs[value]; found {
		return id
	}
	id := valueID(len(t.valueNames))
	t.valueIDs[value] = id
	t.valueNames = append(t.valueNames, value)
	return id
}

// kvEntry is one existing key's value; a key absent from the state is nil.
type kvEntry struct {
	key   keyID
	value valueID
}

// kvState is sorted by key and never changed once built: Porcupine keeps old states on its stack.
type kvState []kvEntry

func (state kvState) find(key keyID) (int, bool) {
	index := sort.Search(len(state), func(index int) bool { return state[index].key >= key })
	return index, index < len(state) && state[index].key == key
}

func (state kvState) withValue(key keyID, value valueID) kvState {
	index, found := state.find(key)
	if found {
		if state[index].value == value {
			return state
		}
		next := append(kvState(nil), state...)
		next[index].value = value
		return next
	}
	next := make(kvState, 0, len(state)+1)
	next = append(next, state[:index]...)
	next = append(next, kvEntry{key, value})
	return append(next, state[index:]...)
}

// withoutKeys deletes keys one after another, as DEL a a deletes a once: the new state and how
// many of the keys existed.
func (state kvState) withoutKeys(keys []keyID) (kvState, uint64) {
	next := state
	deleted := uint64(0)
	for _, key := range keys {
		if index, found := next.find(key); found {
			shorter := make(kvState, 0, len(next)-1)
			shorter = append(shorter, next[:index]...)
			next = append(shorter, next[index+1:]...)
			deleted++
		}
	}
	return next, deleted
}

func (state kvState) withoutDb(db uint8, keyDbs []uint8) kvState {
	next := kvState(nil)
	for _, entry := range state {
		if keyDbs[entry.key] != db {
			next = append(next, entry)
		}
	}
	if len(next) == len(state) {
		return state
	}
	return next
}

func acceptsOk(output kvOutput) bool {
	return output.kind == outputUnknown || output.kind == outputOk
}

// step is replsim's KvModel::step: whether the command can answer output in state, and the state
// after it.
func step(keyDbs []uint8, state kvState, input kvInput, output kvOutput) (bool, kvState) {
	switch input.kind {
	case commandGet:
		current := valueNil
		if index, found := state.find(input.keys[0]); found {
			current = state[index].value
		}
		accepted := output.kind == outputUnknown || (output.kind == outputValue && output.value == current)
		return accepted, state
	case commandSet:
		return acceptsOk(output), state.withValue(input.keys[0], input.value)
	case commandDel:
		next, deleted := state.withoutKeys(input.keys)
		accepted := output.kind == outputUnknown || (output.kind == outputCount && output.count == deleted)
		return accepted, next
	case commandFlushDb:
		return acceptsOk(output), state.withoutDb(input.db, keyDbs)
	case commandFlushAll:
		return acceptsOk(output), kvState(nil)
	}
	panic(fmt.Sprintf("unknown command kind %d", input.kind))
}

func statesEqual(left, right kvState) bool {
	if len(left) != len(right) {
		return false
	}
	for index := range left {
		if left[index] != right[index] {
			return false
		}
	}
	return true
}

// hashState mixes every entry (splitmix64's finalizer), so equal states hash equal.
func hashState(state kvState) uint64 {
	hash := uint64(len(state))
	for _, entry := range state {
		hash ^= uint64(uint32(entry.key))<<32 | uint64(uint32(entry.value))
		hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9
		hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EB
		hash ^= hash >> 31
	}
	return hash
}

// newKvModel gives Porcupine the kv model for one history. With a FLUSHDB or FLUSHALL in the
// history it has no Partition function: Porcupine's partitions are independent sub-histories,
// and a FLUSHDB touches every key of its database at one point, so the whole store is one state
// (one register-like map) searched as one history. Without them, it partitions by key, keys
// named by one DEL sharing a partition.
func newKvModel(h *history) porcupine.Model {
	keyDbs := h.tables.keyDbs
	model := porcupine.Model{
		Init: func() interface{} { return kvState(nil) },
		Step: func(state, input, output interface{}) (bool, interface{}) {
			return step(keyDbs, state.(kvState), input.(kvInput), output.(kvOutput))
		},
		Equal: func(left, right interface{}) bool { return statesEqual(left.(kvState), right.(kvState)) },
		Hash:  func(state interface{}) uint64 { return hashState(state.(kvState)) },
		DescribeOperation: func(input, output interface{}) string {
			return h.tables.describe(input.(kvInput), output.(kvOutput))
		},
	}
	if !h.hasGlobal {
		model.Partition = func(operations []porcupine.Operation) [][]porcupine.Operation {
			return partitionByKey(operations, len(keyDbs))
		}
	}
	return model
}

// partitionByKey groups operations by the connected components of "named by one DEL", in order
// of each component's first operation, so a run is deterministic.
func partitionByKey(operations []porcupine.Operation, keysTotal int) [][]porcupine.Operation {
	parents := make([]keyID, keysTotal)
	for index := range parents {
		parents[index] = keyID(index)
	}
	root := func(key keyID) keyID {
		for parents[key] != key { // bounded: each pass halves the path
			parents[key] = parents[parents[key]]
			key = parents[key]
		}
		return key
	}
	for _, operation := range operations {
		keys := operation.Input.(kvInput).keys
		for _, key := range keys[min(1, len(keys)):] {
			parents[root(key)] = root(keys[0])
		}
	}
	partitionIndex := map[keyID]int{}
	var partitions [][]porcupine.Operation
	for _, operation := range operations {
		keys := operation.Input.(kvInput).keys
		if len(keys) == 0 { // a DEL of no keys touches nothing: alone, it is still checked
			partitions = append(partitions, []porcupine.Operation{operation})
			continue
		}
		component := root(keys[0])
		index, found := partitionIndex[component]
		if !found {
			index = len(partitions)
			partitionIndex[component] = index
			partitions = append(partitions, nil)
		}
		partitions[index] = append(partitions[index], operation)
	}
	return partitions
}

func min(left, right int) int {
	if left < right {
		return left
	}
	return right
}

func (t *tables) describe(input kvInput, output kvOutput) string {
	var command string
	switch input.kind {
	case commandGet:
		command = "GET " + t.keyNames[input.keys[0]]
	case commandSet:
		command = "SET " + t.keyNames[input.keys[0]] + " " + t.valueNames[input.value]
	case commandDel:
		command = "DEL"
		for _, key := range input.keys {
			command += " " + t.keyNames[key]
		}
	case commandFlushDb:
		command = "FLUSHDB"
	case commandFlushAll:
		command = "FLUSHALL"
	}
	if input.db != 0 {
		command = fmt.Sprintf("[db%d] %s", input.db, command)
	}
	switch output.kind {
	case outputOk:
		return command + " -> OK"
	case outputValue:
		return command + " -> " + t.valueNames[output.value]
	case outputCount:
		return fmt.Sprintf("%s -> (integer) %d", command, output.count)
	}
	return command + " -> ?"
}
