using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Profiles;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Plugins.SmoothQuant.Tests;

/// <summary>
/// A real pass context without the pipeline: statistics through the engine's calibrator and activations through
/// ONNX Runtime, over the sample's calibration windows.
/// </summary>
internal sealed class TestContext : IPassContext, IPassLogger, IProgress<StageProgress>
{
    private readonly Func<IDataSource> _open;
    private readonly Func<int, Dictionary<string, DenseTensor>> _first;

    /// <summary>Calibration from the sample's int64 token windows.</summary>
    public TestContext(OnnxModel model, string calibrationNpy)
    {
        Model = model;
        _open = () => NpyDataSource.Single(model.Graph.Inputs[0].Name, calibrationNpy);
        _first = n =>
        {
            long[] tokens = Npy.ReadInt64(calibrationNpy, out long[] shape);
            n = (int)Math.Min(n, shape[0]);
            return new() { [model.Graph.Inputs[0].Name] = DenseTensor.Create(ElementType.Int64, tokens.AsSpan(0, n * (int)shape[1]), [n, shape[1]]) };
        };
    }

    /// <summary>Calibration from float tensors in memory, samples on axis 0.</summary>
    public TestContext(OnnxModel model, IReadOnlyList<(string Name, float[] Values, long[] Shape)> inputs)
    {
        Model = model;
        _open = () => new InMemoryDataSource("synthetic", inputs.Select(i => (i.Name, DenseTensor.FromFloats(i.Values, i.Shape))).ToList());
        _first = n => inputs.ToDictionary(i => i.Name, i =>
        {
            long rows = Math.Min(n, i.Shape[0]);
            long per = i.Values.Length / i.Shape[0];
            long[] shape = (long[])i.Shape.Clone();
            shape[0] = rows;
            return DenseTensor.FromFloats(i.Values.AsSpan(0, (int)(rows * per)), shape);
        });
    }

    public string TargetName => "test";

    public OnnxModel Model { get; }

    public DeviceProfile Device { get; init; } = DeviceProfiles.All["cpu-x64-vnni"];

    public TargetWeightFormat Weights { get; init; } = new(8, true, null);

    public int Seed => 1;

    public IPassLogger Log => this;

    public IProgress<StageProgress> Progress => this;

    public CancellationToken Cancellation => CancellationToken.None;

    public IModelRunner Runner => throw new NotSupportedException();

    public IReadOnlyDictionary<string, WeightEncoding> WeightEncodings => new Dictionary<string, WeightEncoding>();

    public List<string> Lines { get; } = new();

    public int MaxSamples { get; init; } = 64;

    public IReadOnlyDictionary<string, ITensorStatistics> CollectStatistics(IReadOnlyCollection<string> tensors, int? channelAxis = null)
    {
        var request = new CalibrationRequest
        {
            Tensors = tensors.ToList(),
            ChannelAxes = channelAxis is int axis ? tensors.ToDictionary(t => t, _ => axis) : new Dictionary<string, int>(),
            BatchSize = 32,
            MaxSamples = MaxSamples,
        };
        using IDataSource data = _open();
        CalibrationResult result = Calibrator.Run(Model, data, request);
        return result.Observers.ToDictionary(o => o.Key, o => (ITensorStatistics)new Stats(o.Value));
    }

    public IReadOnlyDictionary<string, DenseTensor> CaptureActivations(IReadOnlyCollection<string> tensors, int maxSamples)
    {
        using var session = new InferenceSession(Calibrator.Augment(Model, tensors.ToList()));
        return session.Run(_first(maxSamples), tensors.ToList());
    }

    public void SetWeightEncoding(string initializerName, WeightEncoding encoding) => throw new NotSupportedException();

    public void Debug(string message) => Lines.Add(message);

    public void Information(string message) => Lines.Add(message);

    public void Warning(string message) => Lines.Add(message);

    public void Report(StageProgress value)
    {
    }

    private sealed class Stats(TensorObserver observer) : ITensorStatistics
    {
        private readonly float[] _channels = observer.ChannelAbsMax.ToArray();

        public string Name => observer.Name;

        public float Min => observer.Min;

        public float Max => observer.Max;

        public long Count => observer.Count;

        public IReadOnlyList<float> ChannelAbsMax => _channels;

        public double Quantile(double fraction) => observer.Histogram.Quantile(fraction);
    }
}

/// <summary>Just enough of the .npy format for the sample's little-endian int64 arrays.</summary>
internal static class Npy
{
    public static long[] ReadInt64(string path, out long[] shape)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int headerLength = bytes[6] == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int offset = bytes[6] == 1 ? 10 : 12;
        string header = System.Text.Encoding.ASCII.GetString(bytes, offset, headerLength);
        if (!header.Contains("'<i8'", StringComparison.Ordinal) || header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: not a C-order int64 array ({header})");
        }

        string dims = header[(header.IndexOf('(') + 1)..header.IndexOf(')')];
        shape = dims.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes.AsSpan(offset + headerLength)).ToArray();
    }
}

internal static class Samples
{
    public static string RepoRoot
    {
        get
        {
            string? dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "QuantBuild.sln")))
            {
                dir = Path.GetDirectoryName(dir);
            }

            return dir ?? throw new InvalidOperationException("QuantBuild.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Transformer => Path.Combine(RepoRoot, "samples", "tiny-transformer");

    public static string Calibration => Path.Combine(Transformer, "data", "calibration.npy");

    public static string EvalInputs => Path.Combine(Transformer, "data", "eval_inputs.npy");

    public static OnnxModel Load(string file) => OnnxModelLoader.Load(Path.Combine(Transformer, file));

    /// <summary>Runs <paramref name="model"/> on the first <paramref name="count"/> evaluation windows; returns the logits.</summary>
    public static float[] Logits(OnnxModel model, int count = 16)
    {
        long[] tokens = Npy.ReadInt64(EvalInputs, out long[] shape);
        var input = DenseTensor.Create(ElementType.Int64, tokens.AsSpan(0, count * (int)shape[1]), [count, shape[1]]);
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model));
        return session.Run(new Dictionary<string, DenseTensor> { [model.Graph.Inputs[0].Name] = input })["logits"].AsSpan<float>().ToArray();
    }

    /// <summary>max |a − b| / max |a|.</summary>
    public static double RelativeDifference(float[] reference, float[] other)
    {
        double diff = 0, scale = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(reference[i] - other[i]));
            scale = Math.Max(scale, Math.Abs(reference[i]));
        }

        return diff / scale;
    }
}
