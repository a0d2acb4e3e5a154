// Package render turns a model.Config into nginx.conf bytes.
//
// Contract: Render is a pure function of its arguments: the same Config and
// Options give the same bytes. It only executes templates from package
// templates; all decisions were made by the model.
package render
