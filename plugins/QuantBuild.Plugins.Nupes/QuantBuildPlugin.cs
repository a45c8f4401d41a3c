using QuantBuild.Abstractions.Passes;

// The plugin's id and its reserved diagnostic codes, QB2100–QB2199 (docs/plugins.md, "Diagnostic codes").
[assembly: QuantBuildPlugin("nupes", 21)]
