package tree_test

import (
	"fmt"

	"github.com/keragon/keragon/keras/tree"
)

func ExampleEncoder_Encode() {
	// (+ 2 (* 3 4)) with tokens + = 0, * = 1, digits as themselves + 2.
	t := tree.New(0, tree.Leaf(4), tree.New(1, tree.Leaf(5), tree.Leaf(6)))
	enc, err := tree.EncoderFor([]*tree.Tree{t}, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	tokens, structure, err := enc.Encode([]*tree.Tree{t})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", enc)
	fmt.Println(t, "→ tokens", tokens.Data())
	fmt.Println("structure", structure.Shape(), structure.Data())
	// Output:
	// {MaxNodes:5 MaxChildren:2 MaxHeight:2 MaxWidth:1 Arity:0 Dtype:}
	// (0 4 (1 5 6)) → tokens [4 5 6 1 0]
	// structure (1, 2, 1, 3) [3 1 2 4 0 3]
}
