namespace Contoso.Vision;

/// <summary><c>evaluation.metric_options</c> of <c>metric: contoso/f1</c>.</summary>
public sealed class F1Options
{
    /// <summary>How the per-class scores are averaged (yaml: <c>average: macro</c> or <c>weighted</c>).</summary>
    public F1Average Average { get; set; } = F1Average.Macro;
}
