using QuantBuild.Abstractions.Ir;
using Serilog;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Runs the graph rewrites on the loaded model, in a fixed order, before anything plans on it: an fp16/bf16 model is
/// widened to compute in fp32 inside its own interface, then the opset upgrade (every later rewrite and stage sees modern op forms), then constant folding (so BN parameters and weights
/// computed by exporter arithmetic become plain constants), then BatchNormalization folding, then dead-code removal
/// (the originals the others replaced). Plugins' recipe passes run after, on the rewritten model, so a plugin's decode
/// subgraph is never folded.
/// </summary>
internal static class GraphRewriteRunner
{
    public static IReadOnlyList<IGraphRewrite> Rewrites() =>
        [new Float16Rewrite(), new OpsetUpgradeRewrite(), new ConstantFoldingRewrite(), new BatchNormFoldingRewrite(), new DeadCodeRewrite()];

    /// <summary>Rewrites <paramref name="model"/> in place and logs one line per rewrite that changed (or left) something.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB3002 for an op that has no exact equivalent at opset 13.</exception>
    public static IReadOnlyList<RewriteResult> Run(OnnxModel model, ILogger? log = null)
    {
        var results = new List<RewriteResult>();
        foreach (IGraphRewrite rewrite in Rewrites())
        {
            RewriteResult result = rewrite.Apply(model);
            results.Add(result);
            // What was left alone is said too: a BN that stays unfolded is why an int8 CNN can be slow.
            if (result.ChangedModel || result.Skipped.Count > 0)
            {
                log?.Information("Rewrite {Summary}", result.Summary());
            }
        }

        return results;
    }
}
