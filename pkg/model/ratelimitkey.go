package model

// parseLimitVariable takes limit-conn-zone-variable: one nginx variable
// of those a log format may name, or $binary_remote_addr.
func parseLimitVariable(v string, b *globalBuild) string {
	name := ""
	if len(v) > 1 && v[0] == '$' {
		name = v[1:]
	}
	if len(name) > 128 || logVariableName.FindString(name) != name || (name != "binary_remote_addr" && !knownLogVariable(name)) {
		return "one nginx variable such as $binary_remote_addr, $remote_addr or $http_x_forwarded_for"
	}
	b.g.LimitConnZoneVariable = v
	return ""
}
