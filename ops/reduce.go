package ops

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Sum adds every element of x into a scalar, so that a notebook can
// differentiate an activation (or any elementwise function) without
// importing Gorgonia: ∂Sum(f(x))/∂x is f'(x). It is Gorgonia's Sum over all
// axes, which is right for any rank (the middle-axis bug affects partial
// reductions only).
func Sum(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x.IsScalar() {
		return x, nil
	}
	n, err := gorgonia.Sum(x)
	return n, errors.Wrap(err, "ops: Sum")
}
