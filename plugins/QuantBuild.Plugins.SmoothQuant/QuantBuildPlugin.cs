using QuantBuild.Abstractions.Passes;

// The plugin's id and its reserved diagnostic codes, QB2200–QB2299 (docs/plugins.md, "Diagnostic codes").
[assembly: QuantBuildPlugin("smoothquant", 22)]
