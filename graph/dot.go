package graph

import (
	"fmt"
	"sort"
	"strings"

	"gorgonia.org/gorgonia"
)

// DOT returns the program's graph in Graphviz's DOT language, drawn for
// people: the forward pass and the backward pass (the symbolic gradient)
// in two clusters, inputs as boxes, weights as orange boxes, each gradient
// of a weight labelled ∂loss/∂name, every node with its shape. Render it
// with `dot -Tsvg`. Graph().ToDot() gives Gorgonia's own, rawer drawing.
func (p *Program) DOT() string {
	g := p.ctx.G
	forward := map[int64]bool{}
	mark := func(n *gorgonia.Node) {
		if n == nil {
			return
		}
		for id := range reachable(g, n) {
			forward[id] = true
		}
	}
	for _, o := range p.spec.Outputs {
		mark(o)
	}
	mark(p.spec.Loss)
	for _, u := range p.ctx.updates {
		mark(u.node)
	}
	needed := map[int64]bool{}
	for id := range forward {
		needed[id] = true
	}
	gradName := map[int64]string{}
	for i, w := range p.params {
		if n := p.gradNode(i); n != nil {
			gradName[n.ID()] = "∂loss/∂" + w.Name
			for id := range reachable(g, n) {
				needed[id] = true
			}
		}
	}
	weightOf := map[int64]*Weight{}
	for w, n := range p.ctx.params {
		weightOf[n.ID()] = w
	}
	var nodes []*gorgonia.Node
	for _, n := range g.AllNodes() {
		if needed[n.ID()] {
			nodes = append(nodes, n)
		}
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID() < nodes[j].ID() })

	var sb strings.Builder
	sb.WriteString("digraph program {\n\trankdir=BT;\n\tnode [fontname=\"Helvetica\", fontsize=10];\n")
	cluster := func(name, label, color string, in func(int64) bool) {
		fmt.Fprintf(&sb, "\tsubgraph cluster_%s {\n\t\tlabel=%q; color=%q;\n", name, label, color)
		for _, n := range nodes {
			if in(n.ID()) {
				fmt.Fprintf(&sb, "\t\tn%d [%s];\n", n.ID(), nodeAttrs(n, weightOf[n.ID()], gradName[n.ID()], p.spec.Loss))
			}
		}
		sb.WriteString("\t}\n")
	}
	cluster("forward", "forward pass", "gray40", func(id int64) bool { return forward[id] })
	cluster("backward", "backward pass (symbolic gradient)", "firebrick", func(id int64) bool { return !forward[id] })
	for _, n := range nodes {
		it := g.From(n.ID())
		var children []int64
		for it.Next() {
			children = append(children, it.Node().ID())
		}
		sort.Slice(children, func(i, j int) bool { return children[i] < children[j] })
		for _, c := range children {
			if needed[c] {
				fmt.Fprintf(&sb, "\tn%d -> n%d;\n", c, n.ID())
			}
		}
	}
	sb.WriteString("}\n")
	return sb.String()
}

func nodeAttrs(n *gorgonia.Node, w *Weight, grad string, loss *gorgonia.Node) string {
	shape := fmt.Sprint(n.Shape())
	if n.IsScalar() {
		shape = "()"
	}
	switch {
	case w != nil:
		return fmt.Sprintf("label=%q, shape=box, style=filled, fillcolor=orange", w.Name+" "+shape)
	case grad != "":
		return fmt.Sprintf("label=%q, shape=box, style=filled, fillcolor=lightpink", grad+" "+shape)
	case n == loss:
		return fmt.Sprintf("label=%q, shape=doublecircle, style=filled, fillcolor=gold", "loss")
	case n.Op() == nil:
		return fmt.Sprintf("label=%q, shape=box, style=filled, fillcolor=lightblue", n.Name()+" "+shape)
	}
	op := fmt.Sprint(n.Op())
	if len(op) > 40 {
		op = op[:37] + "..."
	}
	return fmt.Sprintf("label=%q", op+"\n"+shape)
}
