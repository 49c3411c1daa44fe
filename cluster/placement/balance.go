package placement

// This file fits the per-node key offsets that balance a Table; doc.go
// states the rule and the figures, which these constants produce.

const (
	// bandPerMille is the half-width of the load band, in per mille of the
	// mean: a node's owned partitions (and, separately, its primaries) are
	// fitted into [floor(T·(1-δ)), ceil(T·(1+δ))] around the mean T.
	bandPerMille = 30

	// maxRounds bounds the fitting loop. Every placement measured converges
	// in far fewer: on average 6 rounds for owners and 9 for primaries at 20
	// nodes, 16 and 22 at 100 (28 at most). The bound matters for tables too
	// small to fit, which keep the best round found.
	maxRounds = 64

	// roundsPerGain is how many rounds run at each gain: 1/4, then 1/8, and
	// so on, so that a fit that overshoots settles instead of cycling.
	roundsPerGain = 16

	// luckNum/luckDen scale a node's luck into its starting owner offset.
	luckNum, luckDen = 3, 2
)

// candidate is a node and its key, raw key plus offset, in a working top
// list.
type candidate struct {
	key  int64
	node int32
}

// raw is a node and its raw key for one partition, the top 32 bits of its
// Score, as stored for the partition's candidates.
type raw struct {
	u    uint32
	node int32
}

// balancer holds the working state of New's fit. Only the nodes with the
// highest raw keys of a partition (its candidates) are considered in each
// round; a partition whose best excluded node could overtake them under
// the current offsets is recomputed over every node, so the result is
// exactly the top k by key.
type balancer struct {
	partitions, k, n int
	hashes           []uint64
	c                int         // candidates per partition
	cands            []raw       // partition p's at [p*c, (p+1)*c), best first
	excluded         []uint32    // best raw key of a non-candidate, if c < n
	luck             []int64     // per node: sum of x^16 over its x >= 7/8, Q20
	off              []int64     // owner offsets, one per node
	owners           []int32     // partition p's at [p*k, (p+1)*k), best key first
	raws             []uint32    // the raw keys of owners
	load             []int       // owned partitions per node
	scratch          []candidate // k entries: the working top list
}

func newBalancer(partitions, k int, hashes []uint64) *balancer {
	n := len(hashes)
	// With the offsets New fits, k+1+n/32 candidates leave about 1% of the
	// partitions to the full scan at 20 nodes and 0.03% at 100.
	c := min(n, k+1+n/32)
	b := &balancer{
		partitions: partitions, k: k, n: n, hashes: hashes, c: c,
		cands:    make([]raw, partitions*c),
		excluded: make([]uint32, partitions),
		luck:     make([]int64, n),
		off:      make([]int64, n),
		owners:   make([]int32, partitions*k),
		raws:     make([]uint32, partitions*k),
		load:     make([]int, n),
		scratch:  make([]candidate, k),
	}
	// The running top list holds packed keys: the raw key in the high half,
	// the complement of the node index in the low half. A larger packed key
	// is the better candidate, and of equal raw keys the lower index ranks
	// first; a node's key that beats the last passes down the list in c+1
	// branch-free steps.
	top := make([]uint64, c+1)
	withLuck := k < n
	for p := range partitions {
		salt := partitionSalt(p)
		clear(top)
		for i, h := range hashes {
			u := uint32(score(h, salt) >> 32)
			if withLuck && u >= 7<<29 {
				b.luck[i] += pow16(u) >> 12
			}
			x := uint64(u)<<32 | uint64(^uint32(i))
			if x <= top[c] {
				continue // most nodes, once the list has filled
			}
			for j, t := range top {
				top[j], x = max(t, x), min(t, x)
			}
		}
		for j, t := range top[:c] {
			b.cands[p*c+j] = raw{uint32(t >> 32), int32(^uint32(t))}
		}
		b.excluded[p] = uint32(top[c] >> 32) // unused when c == n
	}
	return b
}

// pow16 returns x^16 for the 32-bit fraction x = u/2^32, as a 32-bit
// fraction.
func pow16(u uint32) int64 {
	x := uint64(u)
	x = x * x >> 32
	x = x * x >> 32
	x = x * x >> 32
	x = x * x >> 32
	return int64(x)
}

// beats reports whether key a of node i ranks above key b of node j:
// higher key first, ties by lower node index (ascending node ID).
func beats(a int64, i int32, b int64, j int32) bool {
	return a > b || a == b && i < j
}

// insert adds (key, node) to top, which is sorted best first and holds at
// most max entries, dropping the worst when full.
func insert(top []candidate, max int, key int64, node int32) []candidate {
	j := len(top)
	if j == max {
		if !beats(key, node, top[max-1].key, top[max-1].node) {
			return top
		}
		j--
	} else {
		top = top[:j+1]
	}
	for j > 0 && beats(key, node, top[j-1].key, top[j-1].node) {
		top[j] = top[j-1]
		j--
	}
	top[j] = candidate{key, node}
	return top
}

// luckOffsets sets the owner offsets to minus each node's luck above the
// nodes' mean, in key units: a node that drew many very high scores would
// otherwise own more than its share under any set of competitors.
func (b *balancer) luckOffsets() {
	var sum int64
	for _, l := range b.luck {
		sum += l
	}
	mean := sum / int64(b.n)
	for i, l := range b.luck {
		// luck is Q20, one partition's load is 2^32/P key units.
		b.off[i] = -(l - mean) * luckNum << 12 / (luckDen * int64(b.partitions))
	}
}

// assignOwners sets owners, raws and load to the top k nodes of every
// partition by raw key plus offset.
func (b *balancer) assignOwners() {
	clear(b.load)
	maxOff := b.off[0]
	for _, o := range b.off {
		maxOff = max(maxOff, o)
	}
	k, c, off := b.k, b.c, b.off
	for p := range b.partitions {
		top := b.scratch[:0]
		for _, cd := range b.cands[p*c : (p+1)*c] {
			key := int64(cd.u) + off[cd.node]
			if len(top) == k && !beats(key, cd.node, top[k-1].key, top[k-1].node) {
				continue
			}
			top = insert(top, k, key, cd.node)
		}
		if c < b.n && int64(b.excluded[p])+maxOff >= top[k-1].key {
			// A non-candidate could rank in: rank every node.
			top = top[:0]
			salt := partitionSalt(p)
			for i, h := range b.hashes {
				top = insert(top, k, int64(score(h, salt)>>32)+off[i], int32(i))
			}
		}
		for j, e := range top {
			b.owners[p*k+j], b.raws[p*k+j] = e.node, uint32(e.key-off[e.node])
			b.load[e.node]++
		}
	}
}

// key returns the key of owner slot s: its raw key plus its node's owner
// offset.
func (b *balancer) key(s int) int64 { return int64(b.raws[s]) + b.off[b.owners[s]] }

// assignPrimaries sets primary[p] to the index within partition p's owners
// of the owner with the highest key plus primary offset, and pload to the
// primaries per node.
func (b *balancer) assignPrimaries(poff []int64, primary []int32, pload []int) {
	clear(pload)
	k := b.k
	for p := range b.partitions {
		best := 0
		for j := 1; j < k; j++ {
			x, y := b.owners[p*k+j], b.owners[p*k+best]
			if beats(b.key(p*k+j)+poff[x], x, b.key(p*k+best)+poff[y], y) {
				best = j
			}
		}
		primary[p] = int32(best)
		pload[b.owners[p*k+best]]++
	}
}

// fit runs assign and adjusts off until every node's load is within the
// band around total/n, for at most maxRounds rounds. Each round moves the
// offset of every node outside the band a quarter of a Newton step (less
// after roundsPerGain rounds) toward the middle of the half of the band it
// left: raising one node's offset by 2^32/P key units wins it about one
// partition, whatever n and k, since the density of the competing key at
// a uniform raw key integrates to one. Nodes inside the band are left
// alone, which keeps the fit close to the unfitted ranking and so the
// placement close to that of a node set one node larger or smaller. If the
// band is not reached, fit restores the offsets of the round that came
// closest.
func fit(partitions, total int, off []int64, load []int, assign func()) {
	n := int64(len(off))
	t := int64(total)
	lo := t * (1000 - bandPerMille) / (n * 1000)
	hi := (t*(1000+bandPerMille) + n*1000 - 1) / (n * 1000)
	unit := int64(1<<32) / int64(partitions)
	var best []int64
	bestMiss := int64(-1)
	for round := range maxRounds {
		assign()
		miss := int64(0)
		for _, l := range load {
			miss = max(miss, lo-int64(l), int64(l)-hi)
		}
		if miss <= 0 {
			return
		}
		if bestMiss < 0 || miss < bestMiss {
			bestMiss = miss
			best = append(best[:0], off...)
		}
		shift := 2 + round/roundsPerGain
		for i, l := range load {
			var edge int64
			switch {
			case int64(l) > hi:
				edge = hi
			case int64(l) < lo:
				edge = lo
			default:
				continue
			}
			aim := t + (edge*n-t)/2 // scaled by n
			off[i] -= (int64(l)*n - aim) * unit / (n << shift)
		}
	}
	copy(off, best)
	assign()
}
