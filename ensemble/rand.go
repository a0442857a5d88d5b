package ensemble

// numpy's legacy RandomState (MT19937) and the generators scikit-learn
// builds on it, written out so that a seeded tree, bagging, boosting or
// linear SVM draws the very numbers scikit-learn draws for the same
// random_state: the same features are visited in the same order, the same
// bootstrap rows drawn, so equally good splits tie-break alike.

// randomState is numpy.random.RandomState(seed) for the calls scikit-learn
// makes: randint (legacy masked rejection) and random_sample.
type randomState struct {
	mt  [624]uint32
	pos int
}

// newRandomState seeds like numpy's RandomState(seed). numpy takes seeds
// below 2³²; larger seeds are folded to 32 bits (high half XOR low half).
func newRandomState(seed uint64) *randomState {
	s := uint32(seed)
	if seed>>32 != 0 {
		s = uint32(seed) ^ uint32(seed>>32)
	}
	r := &randomState{pos: 624}
	for i := range r.mt {
		r.mt[i] = s
		s = 1812433253*(s^(s>>30)) + uint32(i) + 1
	}
	return r
}

// uint32 is genrand_int32.
func (r *randomState) uint32() uint32 {
	if r.pos >= 624 {
		const upper, lower = 0x80000000, 0x7fffffff
		mag := [2]uint32{0, 0x9908b0df}
		var i int
		for i = 0; i < 624-397; i++ {
			y := r.mt[i]&upper | r.mt[i+1]&lower
			r.mt[i] = r.mt[i+397] ^ y>>1 ^ mag[y&1]
		}
		for ; i < 623; i++ {
			y := r.mt[i]&upper | r.mt[i+1]&lower
			r.mt[i] = r.mt[i+397-624] ^ y>>1 ^ mag[y&1]
		}
		y := r.mt[623]&upper | r.mt[0]&lower
		r.mt[623] = r.mt[396] ^ y>>1 ^ mag[y&1]
		r.pos = 0
	}
	y := r.mt[r.pos]
	r.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// randint is RandomState.randint(high): a number in [0, high), drawn by
// numpy's legacy masked rejection sampling. high must be in [1, 2³²].
func (r *randomState) randint(high int64) int64 {
	rng := uint32(high - 1)
	if rng == 0 {
		return 0
	}
	mask := rng
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	for {
		if v := r.uint32() & mask; v <= rng {
			return int64(v)
		}
	}
}

// float64 is RandomState.random_sample(): 53 random bits in [0, 1).
func (r *randomState) float64() float64 {
	a, b := r.uint32()>>5, r.uint32()>>6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}

// maxInt32 is np.iinfo(np.int32).max, the bound scikit-learn draws
// estimator seeds below (randint(MAX_INT)).
const maxInt32 = 1<<31 - 1

// randRMax is scikit-learn's RAND_R_MAX: a tree's splitter seeds its
// rand_r stream with randint(0, RAND_R_MAX).
const randRMax = 0x7FFFFFFF

// splitterSeed is the rand_r state a scikit-learn tree with
// random_state=seed starts its feature draws from.
func splitterSeed(seed uint64) uint32 {
	return uint32(newRandomState(seed).randint(randRMax))
}

// randR is scikit-learn's our_rand_r, the xorshift stream a tree's
// splitter draws its features from.
type randR uint32

func (s *randR) next() uint32 {
	if *s == 0 {
		*s = 1 // DEFAULT_SEED
	}
	*s ^= *s << 13
	*s ^= *s >> 17
	*s ^= *s << 5
	return uint32(*s) % (randRMax + 1)
}

// intn is scikit-learn's rand_int(low, high): a number in [low, high).
func (s *randR) intn(low, high int) int {
	return low + int(s.next()%uint32(high-low))
}

// mt19937 is C++'s std::mt19937 seeded with seed, as scikit-learn's
// liblinear uses it (set_seed): the same generator as numpy's.
func newMT19937(seed uint32) *randomState { return newRandomState(uint64(seed)) }

// boundedRand is scikit-learn's bounded_rand_int (Lemire's method on
// mt19937), liblinear's replacement for rand() % n.
func (r *randomState) boundedRand(n uint32) uint32 {
	x := r.uint32()
	m := uint64(x) * uint64(n)
	l := uint32(m)
	if l < n {
		t := -n
		if t >= n {
			t -= n
			if t >= n {
				t %= n
			}
		}
		for l < t {
			x = r.uint32()
			m = uint64(x) * uint64(n)
			l = uint32(m)
		}
	}
	return uint32(m >> 32)
}
