using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Pipeline;

/// <summary>QB4004 for `eval` on a config without an evaluation section: there is nothing to score against.</summary>
internal sealed class EvaluationRequiredValidator : IRunValidator
{
    public IEnumerable<QuantBuildException> Validate(QuantizeConfig config, IReadOnlyList<TargetConfig> targets)
    {
        if (config.Evaluation is null)
        {
            yield return new QuantBuildException("QB4004", "The config has no evaluation section, so there is nothing to evaluate against.",
                "add evaluation: data, labels and metric to quantize.yaml", config.ConfigPath);
        }
    }
}
