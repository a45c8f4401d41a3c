using QuantBuild.Abstractions.Passes;

// quantize.yaml names this plugin's reader and metric as contoso/images and contoso/f1; its own diagnostics are
// QB7100–QB7199 (docs/plugins.md, "Diagnostic codes").
[assembly: QuantBuildPlugin("contoso", 71)]
