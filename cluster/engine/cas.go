package engine

import "corral/cluster/hlc"

// Version returns the Version of whatever the engine holds for key: a live
// record, an expired one or a tombstone; 0 when it holds nothing. Every
// write to a key (put, delete, TTL change) changes it, so a caller that
// read it before a slow operation can tell whether anybody wrote since.
func (e *Engine) Version(key []byte) hlc.Timestamp {
	p := e.part(key)
	p.mu.RLock()
	defer p.mu.RUnlock()
	if ent := p.m[string(key)]; ent != nil {
		return ent.rec.Version
	}
	return 0
}

// PutIfVersion stores next under key, as Update's OpPut does, only if the
// key's Version (see Version) is still version; it reports whether it did
// and returns the stored record. This is how a read-through load stores
// its value without overwriting, or resurrecting past, a client's write
// that landed during the load. A next.Version above the key's Version (one
// from Stamp, taken when the load began) is kept; otherwise a new one is
// stamped.
func (e *Engine) PutIfVersion(key []byte, nowMs int64, version hlc.Timestamp, next Record) (Record, bool) {
	p := e.part(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	ent := p.m[string(key)]
	switch {
	case ent == nil && version != 0:
		return Record{}, false
	case ent != nil && ent.rec.Version != version:
		return ent.rec, false
	}
	if ent != nil && ent.rec.expired(nowMs) {
		p.expireLocked(ent)
	}
	next.Tombstone = false
	if next.Version == 0 || ent != nil && next.Version <= ent.rec.Version {
		next.Version = e.stampLocked(ent)
	}
	return p.putLocked(ent, key, next, nowMs), true
}

// Stamp returns a new version from the engine's clock, for a write decided
// now and stored later with PutIfVersion: a read-through load is as old as
// its start, so that a client write acknowledged anywhere while the origin
// answered is newer than the load's value and wins when replicas merge.
func (e *Engine) Stamp() hlc.Timestamp { return e.hlc.Now() }

// DeleteIfVersion replaces key's live record with a tombstone only if its
// Version is still version, and reports whether it did. The tombstone's
// version is stamp when that is above version (a Stamp taken when the
// read-through load that found the key gone began), else a new one.
func (e *Engine) DeleteIfVersion(key []byte, nowMs int64, version, stamp hlc.Timestamp) bool {
	p := e.part(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	ent := p.m[string(key)]
	if ent == nil || ent.rec.Tombstone || ent.rec.Version != version {
		return false
	}
	if ent.rec.expired(nowMs) {
		p.expireLocked(ent)
		return false
	}
	if stamp <= ent.rec.Version {
		stamp = e.stampLocked(ent)
	}
	p.replaceLocked(ent, Record{ExpireAt: nowMs, Version: stamp, Tombstone: true})
	return true
}
