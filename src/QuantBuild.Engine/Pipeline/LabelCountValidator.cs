using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// QB1250 before the model is loaded: evaluation.labels must hold one label per evaluation sample. Both counts come from
/// the .npy headers; data in .npz or test_data_set folders is counted when it is opened, after loading.
/// </summary>
internal sealed class LabelCountValidator : IRunValidator
{
    public IEnumerable<QuantBuildException> Validate(QuantizeConfig config, IReadOnlyList<TargetConfig> targets)
    {
        if (config.Evaluation is not { LabelsPath: { } labelsPath } evaluation || SamplesIn(evaluation.Data) is not long samples)
        {
            yield break;
        }

        long labels;
        using (NpyFile file = NpyFile.Open(labelsPath))
        {
            labels = file.RowCount;
        }

        if (labels != samples)
        {
            yield return new QuantBuildException("QB1250", $"{labelsPath} holds {labels} labels for {samples} evaluation samples.",
                "write one label per evaluation sample, in the same order", labelsPath);
        }
    }

    // Rows of the first .npy file; the data source checks later that every input holds the same number.
    private static long? SamplesIn(DataSourceConfig data)
    {
        string? first = data.Kind switch
        {
            DataSourceKind.Npy => data.Path,
            DataSourceKind.PerInput => data.Inputs.Values.FirstOrDefault(),
            _ => null,
        };
        if (first is null)
        {
            return null;
        }

        using NpyFile file = NpyFile.Open(first);
        return file.RowCount;
    }
}
