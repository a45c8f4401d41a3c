using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Rewrites;

/// <summary>One rewrite of the loaded fp32 model that keeps what it computes and makes it easier to quantize.</summary>
internal interface IGraphRewrite
{
    /// <summary>The name the log and the report use, for example <c>batchnorm-folding</c>.</summary>
    string Name { get; }

    /// <summary>Rewrites <paramref name="model"/> in place and says what changed and what was left alone, and why.</summary>
    RewriteResult Apply(OnnxModel model);
}
