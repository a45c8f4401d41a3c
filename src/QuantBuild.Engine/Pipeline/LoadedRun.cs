using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Pipeline;

/// <summary>The Load stage's result: the fp32 model with its weights mapped, its hash, its data, and the run's scratch folder.</summary>
/// <param name="Model">The model (rewritten in place by the Rewrite stage after the baseline scored it).</param>
/// <param name="Sha256">SHA-256 of the model file, hex.</param>
/// <param name="Fp32Bytes">Bytes of the model on disk, external data included.</param>
/// <param name="Data">The calibration and evaluation data.</param>
/// <param name="Workspace">The run's scratch folder.</param>
internal sealed record LoadedRun(OnnxModel Model, string Sha256, long Fp32Bytes, RunData Data, RunWorkspace Workspace) : IDisposable
{
    public void Dispose()
    {
        Workspace.Dispose();
        Data.Dispose();
    }
}
