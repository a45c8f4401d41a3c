using QuantBuild.Abstractions.Passes;

// The plugin's id and its reserved diagnostic codes, QB7000–QB7099 (docs/plugins.md, "Diagnostic codes").
[assembly: QuantBuildPlugin("percentile-clip", 70)]
