using QuantBuild.Abstractions.Passes;

// The plugin's id and its reserved diagnostic codes, QB2300–QB2399 (docs/plugins.md, "Diagnostic codes").
[assembly: QuantBuildPlugin("adaquant", 23)]
