using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;
using QuantBuild.Runtime;
using QuantBuild.Testing;
using QuantBuild.Tests.Shared;

namespace QuantBuild.Plugins.SmoothQuant.Tests;

/// <summary>The engine's own pass context (QuantBuild.Testing) over the sample's calibration windows or synthetic inputs.</summary>
internal static class TestContext
{
    /// <summary>At most 64 calibration samples in batches of 32, on <paramref name="device"/> with <paramref name="weights"/>.</summary>
    public static PassTestContext For(OnnxModel model, string calibrationNpy, string device = "cpu-x64-vnni", TargetWeightFormat? weights = null) =>
        PassTestContext.FromFiles(model, calibrationNpy, Options(device, weights));

    /// <summary>Calibration from float tensors in memory, samples on axis 0.</summary>
    public static PassTestContext For(OnnxModel model, IReadOnlyList<(string Name, float[] Values, long[] Shape)> inputs) =>
        PassTestContext.FromTensors(model, inputs.ToDictionary(i => i.Name, i => DenseTensor.FromFloats(i.Values, i.Shape)), Options("cpu-x64-vnni", null));

    private static PassTestOptions Options(string device, TargetWeightFormat? weights) =>
        new() { Device = device, Weights = weights ?? new(8, true, null), MaxSamples = 64, BatchSize = 32, PassName = "smoothquant" };
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
    public static string RepoRoot => RepositoryRoot.Path;


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
