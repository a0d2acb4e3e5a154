// Package render prints a plan as nginx.conf.
//
// Contract: Render is a pure function of the plan: the same Plan gives the
// same bytes. It executes the templates of package templates, one per
// section of nginx.conf, each on the plan's view of it; every decision was
// made by the model and the plan.
package render
