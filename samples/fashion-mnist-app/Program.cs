using System.Text.Json;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Runtime;

// Classifies the sample's test images with whatever model.onnx the publish shipped (int8 after QuantBuild) and
// prints the accuracy next to the one QuantBuild measured at build time.
string baseDir = AppContext.BaseDirectory;
string modelPath = Path.Combine(baseDir, args.Length > 0 ? args[0] : "model.onnx");
int count = args.Length > 1 ? int.Parse(args[1]) : 500;

float[] images = Npy.ReadFloats(Path.Combine(baseDir, "data", "eval_images.npy"), out long[] shape);
long[] labels = Npy.ReadLongs(Path.Combine(baseDir, "data", "eval_labels.npy"));
int pixels = (int)(shape.Skip(1).Aggregate(1L, (a, b) => a * b));
count = Math.Min(count, (int)shape[0]);

using var session = new InferenceSession(modelPath);
string input = session.InputMetadata.Keys.First();
string output = session.OutputMetadata.Keys.First();
int correct = 0;
for (int i = 0; i < count; i++)
{
    long[] sampleShape = [1, .. shape.Skip(1)];
    var tensor = DenseTensor.FromFloats(images.AsSpan(i * pixels, pixels), sampleShape);
    ReadOnlySpan<float> logits = session.Run(new Dictionary<string, DenseTensor> { [input] = tensor })[output].AsSpan<float>();
    int best = 0;
    for (int c = 1; c < logits.Length; c++)
    {
        if (logits[c] > logits[best])
        {
            best = c;
        }
    }

    correct += best == labels[i] ? 1 : 0;
}

string manifestPath = Path.ChangeExtension(modelPath, null) + ".manifest.json";
string verdict = "no manifest (fp32 model)";
if (File.Exists(manifestPath))
{
    using JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(manifestPath));
    verdict = $"{manifest.RootElement.GetProperty("target").GetString()} {manifest.RootElement.GetProperty("verdict").GetString()}, " +
        $"build-time top1 {manifest.RootElement.GetProperty("metrics").GetProperty("quantized").GetDouble():0.00}%";
}

Console.WriteLine($"model: {Path.GetFileName(modelPath)} ({new FileInfo(modelPath).Length} bytes), {verdict}");
Console.WriteLine($"accuracy: {100.0 * correct / count:0.00}% on {count} images");
return 0;

/// <summary>Just enough .npy (little-endian, C order) for the sample's float32 images and int64 labels.</summary>
internal static class Npy
{
    public static float[] ReadFloats(string path, out long[] shape)
    {
        byte[] data = Read(path, "<f4", out shape);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data).ToArray();
    }

    public static long[] ReadLongs(string path)
    {
        byte[] data = Read(path, "<i8", out _);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(data).ToArray();
    }

    private static byte[] Read(string path, string dtype, out long[] shape)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int major = bytes[6];
        int headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int start = major == 1 ? 10 : 12;
        string header = System.Text.Encoding.ASCII.GetString(bytes, start, headerLength);
        if (!header.Contains(dtype, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: expected dtype {dtype}, header {header}");
        }

        string dims = header[(header.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..];
        dims = dims[..dims.IndexOf(')')];
        shape = dims.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        return bytes[(start + headerLength)..];
    }
}
