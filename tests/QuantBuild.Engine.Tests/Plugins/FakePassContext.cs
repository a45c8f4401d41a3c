using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;

namespace QuantBuild.Engine.Tests.Plugins;

/// <summary>A context for calling a pass directly: a model to change, encodings and log lines to look at.</summary>
internal sealed class FakePassContext : IPassContext, IPassLogger, IProgress<StageProgress>
{
    public string TargetName => "test";

    public OnnxModel Model { get; } = new();

    public DeviceProfile Device { get; init; } = DeviceProfiles.All["cpu-x64-vnni"];

    public TargetWeightFormat Weights { get; init; } = new(8, true, null);

    public int Seed => 1;

    public IPassLogger Log => this;

    public IProgress<StageProgress> Progress => this;

    public CancellationToken Cancellation => CancellationToken.None;

    public IModelRunner Runner => throw new NotSupportedException();

    public Dictionary<string, WeightEncoding> Encodings { get; } = new();

    public IReadOnlyDictionary<string, WeightEncoding> WeightEncodings => Encodings;

    public List<string> Lines { get; } = new();

    public string Metadata(string key) => Model.MetadataProps.Single(m => m.Key == key).Value;

    public IReadOnlyDictionary<string, ITensorStatistics> CollectStatistics(IReadOnlyCollection<string> tensors, int? channelAxis = null) => throw new NotSupportedException();

    public IReadOnlyDictionary<string, DenseTensor> CaptureActivations(IReadOnlyCollection<string> tensors, int maxSamples) => throw new NotSupportedException();

    public void SetWeightEncoding(string initializerName, WeightEncoding encoding) => Encodings[initializerName] = encoding;

    public Dictionary<string, string> Float { get; } = new();

    public Dictionary<string, (float Min, float Max)> Ranges { get; } = new();

    public void KeepInFloat(string nodeName, string reason) => Float[nodeName] = reason;

    public void SetActivationRange(string tensorName, float min, float max) => Ranges[tensorName] = (min, max);

    public void Debug(string message) => Lines.Add(message);

    public void Information(string message) => Lines.Add(message);

    public void Warning(string message) => Lines.Add(message);

    public void Report(StageProgress value)
    {
    }

    /// <summary>Runs <paramref name="pass"/> with its default options.</summary>
    public FakePassContext Run(IQuantizationPass pass)
    {
        pass.Run(this, Activator.CreateInstance(pass.OptionsType)!);
        return this;
    }
}
