using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Rewrites;
using Serilog;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// Raises the opset and folds constants and BatchNorms before any target plans: targets quantize the rewritten model,
/// while the baseline (the stage before) scored the original. The model is rewritten in place (copying a multi-gigabyte
/// graph to keep the original would buy nothing: nothing reads it afterwards).
/// </summary>
internal static class RewriteStage
{
    public const string Name = "rewrite";

    public static OnnxModel Run(LoadedRun loaded, ILogger log)
    {
        GraphRewriteRunner.Run(loaded.Model, log);
        return loaded.Model;
    }
}
