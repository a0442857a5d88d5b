// Package tree holds trees for recursive networks (keras.TreeRNN,
// keras.TreeLSTM) and encodes them into the fixed-size tensors a Keras
// model takes.
//
// # Overview
//
// A Tree is a node with a token id (or a feature vector) and ordered
// children. Build one with Leaf and New, or from index lists with
// FromChildren and FromParents, which reject child indices out of range,
// cycles and nodes with two parents:
//
//	t := tree.New(plus, tree.Leaf(two), tree.New(times, tree.Leaf(three), tree.Leaf(four)))
//
// An Encoder turns a batch of trees into two tensors with one row per
// tree: the nodes' token ids (n, MaxNodes), children before parents, and
// a structure (n, MaxHeight, MaxWidth, 1+MaxChildren) that schedules the
// inner nodes level by level. EncoderFor measures the sizes that fit a
// data set:
//
//	enc, err := tree.EncoderFor(trees, 0)
//	tokens, structure, err := enc.Encode(trees)
//
// Encode fails, naming the tree and node, on a cycle, a shared node, a
// tree larger than the encoder's sizes and, for N-ary cells (Arity > 0),
// an inner node with another number of children.
package tree
