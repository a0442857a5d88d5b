package main

import (
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// reviews are generated product reviews: a text (token ids, 0-padded)
// written with a sentiment (negative, neutral, positive), three tabular
// features of the sale (price, days to deliver, the seller's past rating)
// and the star rating the buyer gave (1 to 5), which depends on the
// sentiment and on the sale:
//
//	rating = 3 + 1.1·(sentiment − 1) − 0.25·(days − 5)/2 + 0.6·(seller − 4) + noise(0.3)
//
// clipped to [1, 5]. The words alone tell the sentiment only through the
// few sentiment words among many neutral ones, and the rating needs both
// inputs: a model with one input per kind of data and one output per task.
type reviews struct {
	text      *tensor.Dense // (n, maxLen) ids, 0 = padding
	table     *tensor.Dense // (n, 3): price, days, seller rating
	sentiment *tensor.Dense // (n) 0, 1, 2
	rating    *tensor.Dense // (n, 1)
}

// Vocabulary layout: id 0 is padding; 1..neutral are neutral words, then
// positive words, then negative words.
const (
	neutralWords  = 60
	polarWords    = 12
	vocabulary    = 1 + neutralWords + 2*polarWords
	minLen, maxLn = 8, 30
)

func makeReviews(n int, seed uint64) reviews {
	rng := rand.New(rand.NewPCG(seed, 0x7265766965777321))
	text := make([]float32, n*maxLn)
	table := make([]float32, n*3)
	sent := make([]float32, n)
	rating := make([]float32, n)
	for i := 0; i < n; i++ {
		s := rng.IntN(3)
		sent[i] = float32(s)
		length := minLen + rng.IntN(maxLn-minLen+1)
		for j := 0; j < length; j++ {
			word := 1 + rng.IntN(neutralWords)
			// One word in five carries a sentiment; one in four of those
			// goes against the review's (sarcasm, mixed feelings).
			if rng.Float64() < 0.2 && s != 1 {
				polar := s
				if rng.Float64() < 0.25 {
					polar = 2 - s
				}
				word = 1 + neutralWords + rng.IntN(polarWords)
				if polar == 0 {
					word += polarWords
				}
			}
			text[i*maxLn+j] = float32(word)
		}
		price := math.Exp(3 + rng.NormFloat64())
		days := 1 + float64(rng.IntN(10))
		seller := math.Min(5, 3+1.5*rng.Float64()+0.3*rng.NormFloat64())
		table[i*3], table[i*3+1], table[i*3+2] = float32(price), float32(days), float32(seller)
		r := 3 + 1.1*float64(s-1) - 0.25*(days-5)/2 + 0.6*(seller-4) + 0.3*rng.NormFloat64()
		rating[i] = float32(math.Max(1, math.Min(5, r)))
	}
	return reviews{
		text:      tensor.New(tensor.WithShape(n, maxLn), tensor.WithBacking(text)),
		table:     tensor.New(tensor.WithShape(n, 3), tensor.WithBacking(table)),
		sentiment: tensor.New(tensor.WithShape(n), tensor.WithBacking(sent)),
		rating:    tensor.New(tensor.WithShape(n, 1), tensor.WithBacking(rating)),
	}
}
