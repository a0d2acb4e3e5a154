// Package render turns a plan into nginx.conf bytes.
//
// Contract: Render is a pure function of its arguments: the same Plan and
// Options give the same bytes. It only executes templates from package
// templates; all decisions were made by the model and the plan.
package render
