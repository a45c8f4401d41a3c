namespace QuantBuild.Engine.Config;

/// <summary>What a plugin extension other than a pass is.</summary>
public enum ExtensionKind
{
    /// <summary>A metric (<c>evaluation.metric: id/name</c>).</summary>
    Metric,

    /// <summary>A data reader (<c>data: { reader: id/name, ... }</c>).</summary>
    DataReader,
}
