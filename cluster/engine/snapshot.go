package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"corral/cluster/hlc"
)

// Snapshots. A snapshot file is:
//
//	"CORRALSNAP1\n"
//	uvarint taken-at unix ms
//	records, each: uvarint key length, key, uvarint value length, value,
//	               varint deadline (ms), uvarint version, byte flags (1: tombstone,
//	               2: a value loaded from the origin)
//	a zero byte (the end marker: no key is empty), uvarint record count,
//	4 bytes CRC-32C (Castagnoli, big endian) of everything before it.
//
// Records are written one partition at a time, each partition's copy
// taken under its read lock, so writes go on meanwhile: a snapshot is not
// a point in time, but every record in it is one the engine held, and
// loading merges records by version, so nothing in it can undo a newer
// write that a node learned some other way.

const snapshotMagic = "CORRALSNAP1\n"

// maxSnapshotField bounds a key or value length read from a snapshot, so a
// corrupt length cannot make the loader allocate without bound.
const maxSnapshotField = 1 << 30

// ErrBadSnapshot is matched by every error ReadSnapshot returns for a file
// that is not a complete, intact snapshot.
var ErrBadSnapshot = errors.New("engine: bad snapshot")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteSnapshot writes every record the engine holds, tombstones included,
// to w and returns how many it wrote.
func (e *Engine) WriteSnapshot(w io.Writer) (int, error) {
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 256<<10)
	var scratch [binary.MaxVarintLen64]byte
	uvarint := func(v uint64) { bw.Write(scratch[:binary.PutUvarint(scratch[:], v)]) }
	bw.WriteString(snapshotMagic)
	uvarint(uint64(e.clock.Now().UnixMilli()))
	n := 0
	for p := range e.parts {
		e.PartitionRecords(p, func(key []byte, r Record) bool {
			uvarint(uint64(len(key)))
			bw.Write(key)
			uvarint(uint64(len(r.Value)))
			bw.Write(r.Value)
			bw.Write(scratch[:binary.PutVarint(scratch[:], r.ExpireAt)])
			uvarint(uint64(r.Version))
			var flags byte
			switch {
			case r.Tombstone:
				flags = 1
			case r.Loaded:
				flags = 2
			}
			bw.WriteByte(flags)
			n++
			return true
		})
	}
	bw.WriteByte(0)
	uvarint(uint64(n))
	if err := bw.Flush(); err != nil {
		return n, err
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	_, err := w.Write(sum[:])
	return n, err
}

// SaveSnapshot writes a snapshot to path atomically: to a temporary file
// in the same directory, fsynced, renamed over path, and the directory
// fsynced, so a crash leaves either the old snapshot or the new one.
func (e *Engine) SaveSnapshot(path string) (int, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("engine: snapshot: %w", err)
	}
	tmp := f.Name()
	n, err := e.WriteSnapshot(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("engine: snapshot %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return n, nil
}

// SnapshotInfo describes a snapshot ReadSnapshot read.
type SnapshotInfo struct {
	TakenAtMs int64 // when it was taken, unix ms
	Records   int
}

// ReadSnapshot reads a snapshot from r and calls fn for each record, but
// only once the whole snapshot was read and its checksum verified: a
// truncated or corrupt snapshot reports an error matching ErrBadSnapshot
// and calls fn for nothing. It holds the records in memory meanwhile.
func ReadSnapshot(r io.Reader, fn func(key []byte, rec Record)) (SnapshotInfo, error) {
	crc := crc32.New(castagnoli)
	br := bufio.NewReaderSize(r, 256<<10)
	tr := &teeByteReader{r: br, h: crc}
	var info SnapshotInfo
	bad := func(format string, args ...any) (SnapshotInfo, error) {
		return SnapshotInfo{}, fmt.Errorf("%w: "+format, append([]any{ErrBadSnapshot}, args...)...)
	}
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(tr, magic); err != nil || string(magic) != snapshotMagic {
		return bad("not a corral snapshot")
	}
	taken, err := binary.ReadUvarint(tr)
	if err != nil {
		return bad("truncated header")
	}
	info.TakenAtMs = int64(taken)
	type item struct {
		key []byte
		rec Record
	}
	var items []item
	for {
		klen, err := binary.ReadUvarint(tr)
		if err != nil {
			return bad("truncated after %d records", len(items))
		}
		if klen == 0 {
			break
		}
		if klen > maxSnapshotField {
			return bad("key length %d", klen)
		}
		key := make([]byte, klen)
		if _, err := io.ReadFull(tr, key); err != nil {
			return bad("truncated key after %d records", len(items))
		}
		vlen, err := binary.ReadUvarint(tr)
		if err != nil || vlen > maxSnapshotField {
			return bad("bad value length after %d records", len(items))
		}
		var val []byte
		if vlen > 0 {
			val = make([]byte, vlen)
			if _, err := io.ReadFull(tr, val); err != nil {
				return bad("truncated value after %d records", len(items))
			}
		}
		exp, err1 := binary.ReadVarint(tr)
		ver, err2 := binary.ReadUvarint(tr)
		flags, err3 := tr.ReadByte()
		if err1 != nil || err2 != nil || err3 != nil || flags > 2 {
			return bad("bad record after %d records", len(items))
		}
		items = append(items, item{key, Record{Value: val, ExpireAt: exp, Version: hlc.Timestamp(ver), Tombstone: flags == 1, Loaded: flags == 2}})
	}
	count, err := binary.ReadUvarint(tr)
	if err != nil || count != uint64(len(items)) {
		return bad("record count %d does not match the %d records read", count, len(items))
	}
	want := crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return bad("truncated checksum")
	}
	if got := binary.BigEndian.Uint32(sum[:]); got != want {
		return bad("checksum %08x, computed %08x", got, want)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return bad("trailing bytes after the checksum")
	}
	for _, it := range items {
		fn(it.key, it.rec)
	}
	info.Records = len(items)
	return info, nil
}

// LoadSnapshot reads the snapshot at path and merges its records into the
// engine (Merge: newer versions win, expired records arrive as
// tombstones, tombstones past their collection time are dropped). A
// missing file is not an error: it returns os.ErrNotExist wrapped.
func (e *Engine) LoadSnapshot(path string) (SnapshotInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer f.Close()
	return ReadSnapshot(f, func(key []byte, rec Record) { e.Merge(key, rec) })
}

// teeByteReader reads through r and feeds what it read to h.
type teeByteReader struct {
	r   *bufio.Reader
	h   hash.Hash32
	one [1]byte
}

func (t *teeByteReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.h.Write(p[:n])
	return n, err
}

func (t *teeByteReader) ReadByte() (byte, error) {
	b, err := t.r.ReadByte()
	if err == nil {
		t.one[0] = b
		t.h.Write(t.one[:])
	}
	return b, err
}
