using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Profiles;
using QuantBuild.Runtime;

namespace QuantBuild.Plugins.AdaQuant.Tests;

/// <summary>
/// A pass context over the Fashion-MNIST sample, for calling the pass directly: activations through ORT in the
/// same batches the pipeline uses, so the pass sees exactly what it sees inside <c>quantbuild run</c>.
/// </summary>
internal sealed class SampleContext : IPassContext, IPassLogger, IProgress<StageProgress>, IModelRunner
{
    private readonly string _calibration;
    private readonly int _batch;

    public SampleContext(OnnxModel model, string calibrationNpy, int batch, TargetWeightFormat weights)
    {
        Model = model;
        _calibration = calibrationNpy;
        _batch = batch;
        Weights = weights;
    }

    public string TargetName => "test";

    public OnnxModel Model { get; }

    public DeviceProfile Device { get; init; } = DeviceProfiles.CpuX64Vnni;

    public TargetWeightFormat Weights { get; }

    public int Seed => 1;

    public IPassLogger Log => this;

    public IProgress<StageProgress> Progress => this;

    public CancellationToken Cancellation => CancellationToken.None;

    public IModelRunner Runner => this;

    public Dictionary<string, WeightEncoding> Encodings { get; } = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, WeightEncoding> WeightEncodings => Encodings;

    public List<string> Lines { get; } = [];

    public IReadOnlyDictionary<string, ITensorStatistics> CollectStatistics(IReadOnlyCollection<string> tensors, int? channelAxis = null) =>
        throw new NotSupportedException();

    public IReadOnlyDictionary<string, DenseTensor> CaptureActivations(IReadOnlyCollection<string> tensors, int maxSamples)
    {
        using NpyFile file = NpyFile.Open(_calibration);
        string input = Model.Graph.Inputs[0].Name!;
        var parts = tensors.ToDictionary(t => t, _ => new List<DenseTensor>(), StringComparer.Ordinal);
        long total = Math.Min(maxSamples, file.RowCount);
        List<string> computed = tensors.Where(t => t != input).ToList();
        using var session = computed.Count > 0 ? new InferenceSession(Calibrator.Augment(Model, computed)) : null;
        for (long start = 0; start < total; start += _batch)
        {
            DenseTensor batch = file.ReadRows(start, (int)Math.Min(_batch, total - start));
            var feed = new Dictionary<string, DenseTensor> { [input] = batch };
            IReadOnlyDictionary<string, DenseTensor> outputs = session is null ? feed : session.Run(feed, computed);
            foreach ((string name, List<DenseTensor> list) in parts)
            {
                list.Add(name == input ? batch : outputs[name]);
            }
        }

        return parts.ToDictionary(p => p.Key, p => Stack(p.Value), StringComparer.Ordinal);
    }

    public IReadOnlyDictionary<string, DenseTensor> Run(OnnxModel model, IReadOnlyDictionary<string, DenseTensor> inputs, IReadOnlyList<string>? outputs = null)
    {
        List<string> wanted = outputs?.ToList() ?? model.Graph.Outputs.Select(o => o.Name!).ToList();
        using var session = new InferenceSession(Calibrator.Augment(model, wanted));
        return session.Run(inputs, wanted);
    }

    public void SetWeightEncoding(string initializerName, WeightEncoding encoding) => Encodings[initializerName] = encoding;

    public void Debug(string message) => Lines.Add(message);

    public void Information(string message) => Lines.Add(message);

    public void Warning(string message) => Lines.Add("warning: " + message);

    public void Report(StageProgress value)
    {
    }

    private static DenseTensor Stack(List<DenseTensor> parts)
    {
        long[] shape = parts[0].ShapeArray();
        shape[0] = parts.Sum(p => p.Shape[0]);
        var bytes = new byte[parts.Sum(p => p.Data.Length)];
        int offset = 0;
        foreach (DenseTensor p in parts)
        {
            p.Data.Span.CopyTo(bytes.AsSpan(offset));
            offset += p.Data.Length;
        }

        return new DenseTensor(parts[0].ElementType, shape, bytes);
    }
}
