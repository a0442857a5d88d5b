// Package plot draws what training produces — loss and metric curves,
// functions, histograms, grids of images, computation graphs — as PNG or SVG,
// for Go programs and for notebooks.
//
// # Overview
//
// A Chart is lines, points and histograms on one pair of axes; History makes
// one from a training run's History, as Keras users plot history.history.
// Images draws a grid of small images: MNIST digits, a Dense layer's weights
// seen as images (Units), convolution filters (Filters) and feature maps
// (Channels). Bars is a grouped bar chart over named categories (accuracy
// by depth and model, say). Each becomes a Figure, which Row and Grid place side by side and
// which writes itself as PNG or SVG:
//
//	history, err := model.Fit(x, y, keras.FitConfig{Epochs: 5, ValidationSplit: 0.1})
//	loss := plot.History(history, "loss", "val_loss")
//	acc := plot.History(history, "accuracy", "val_accuracy")
//	err = plot.Row(loss.Figure(), acc.Figure()).Save("history.png")
//
// In a gophernotes notebook, show a picture with the kernel's display package:
//
//	img, err := plot.Row(loss.Figure(), acc.Figure()).Image()
//	display.Image(img)
//
// (display.Image rather than display.PNG: gophernotes v0.7.5's display.PNG
// also stores the PNG's bytes as decimal text, which makes the saved
// notebook several times larger.)
//
// A Figure keeps the first error met while it was made (a name missing from
// the History, a tensor of the wrong shape) and returns it from PNG, SVG and
// Save, so figures can be composed without checking errors at each step.
//
// RenderDOT turns a graph in Graphviz's DOT language (keras.Model.WriteDOT,
// graph.Program.DOT) into PNG or SVG with Graphviz's dot program.
//
// Sizes are in pixels at 96 dots per inch: a 480×320 figure is a 480×320 PNG
// and an SVG of 360×240 points (the same size on screen). The drawing is done
// by gonum.org/v1/plot.
package plot
