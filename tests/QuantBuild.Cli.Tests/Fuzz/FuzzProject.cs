using System.Diagnostics;

namespace QuantBuild.Cli.Tests.Fuzz;

/// <summary>
/// The run campaign's files: a valid seed project (the Fashion-MNIST sample's model, 64 calibration and 300
/// evaluation images, every hostile data file a case may name), a folder outside it that no run may change, and one
/// folder per case copied from the seed. Deleted with everything in it.
/// </summary>
internal sealed class FuzzProject : IDisposable
{
    private const int CalibrationRows = 64;
    private const int EvaluationRows = 300;
    private const int ImageFloats = 28 * 28;

    public FuzzProject()
    {
        Root = Path.Combine(Path.GetTempPath(), "quantbuild-runfuzz-" + Guid.NewGuid().ToString("N"));
        Seed = Path.Combine(Root, "seed");
        Outside = Path.Combine(Root, "outside");
        string data = Path.Combine(Seed, "data");
        Directory.CreateDirectory(data);
        Directory.CreateDirectory(Outside);

        string sample = Path.Combine(RepoPaths.Root, "samples", "fashion-mnist");
        File.Copy(Path.Combine(sample, "model.onnx"), Path.Combine(Seed, "model.onnx"));
        byte[] calibration = NpyBytes.Read(Path.Combine(sample, "data", "calibration.npy")).Body[..(CalibrationRows * ImageFloats * 4)];
        byte[] evaluation = NpyBytes.Read(Path.Combine(sample, "data", "eval_images.npy")).Body[..(EvaluationRows * ImageFloats * 4)];
        byte[] labels = NpyBytes.Read(Path.Combine(sample, "data", "eval_labels.npy")).Body[..(EvaluationRows * 8)];

        Images(data, "calibration.npy", calibration, CalibrationRows);
        Images(data, "eval_images.npy", evaluation, EvaluationRows);
        NpyBytes.Write(Path.Combine(data, "eval_labels.npy"), "<i8", [EvaluationRows], labels);

        // What hostile or careless data looks like: NaN rows, all NaN, infinities, nothing, a cut-off file, the wrong
        // image size or dtype, labels out of range, of the wrong type or one short.
        Images(data, "nan.npy", Floats(calibration, (i, v) => i / ImageFloats is >= 3 and < 6 ? float.NaN : v), CalibrationRows);
        Images(data, "all-nan.npy", Floats(calibration, (_, _) => float.NaN), CalibrationRows);
        Images(data, "inf.npy", Floats(evaluation, (i, v) => i % 997 == 0 ? float.PositiveInfinity : v), EvaluationRows);
        NpyBytes.Write(Path.Combine(data, "empty.npy"), "<f4", [0, 1, 28, 28], []);
        NpyBytes.Write(Path.Combine(data, "short.npy"), "<f4", [CalibrationRows, 1, 28, 28], calibration.AsSpan(0, calibration.Length / 6));
        NpyBytes.Write(Path.Combine(data, "small-images.npy"), "<f4", [CalibrationRows, 1, 14, 14], calibration.AsSpan(0, CalibrationRows * 14 * 14 * 4));
        NpyBytes.Write(Path.Combine(data, "int32.npy"), "<i4", [CalibrationRows, 1, 28, 28], new byte[calibration.Length]);
        NpyBytes.Write(Path.Combine(data, "labels-out-of-range.npy"), "<i8", [EvaluationRows],
            Enumerable.Range(0, EvaluationRows).SelectMany(_ => BitConverter.GetBytes(99L)).ToArray());
        NpyBytes.Write(Path.Combine(data, "labels-float.npy"), "<f4", [EvaluationRows], new byte[EvaluationRows * 4]);
        NpyBytes.Write(Path.Combine(data, "labels-short.npy"), "<i8", [EvaluationRows - 1], labels.AsSpan(0, (EvaluationRows - 1) * 8));
        Run("mkfifo", Path.Combine(data, "fifo.npy"));
        File.CreateSymbolicLink(Path.Combine(data, "zero-link.npy"), "/dev/zero");

        // Outside the project: a run may read what the yaml names here, but never write anything.
        Images(Outside, "canary.npy", Floats(calibration, (_, _) => 7777f), CalibrationRows);
        File.WriteAllBytes(Path.Combine(Outside, "secret.bin"), Enumerable.Range(0, 4096).Select(i => (byte)(i * 31)).ToArray());
        File.CreateSymbolicLink(Path.Combine(Seed, "model-link.onnx"), Path.Combine(Outside, "secret.bin"));

        File.WriteAllText(Path.Combine(Seed, "quantize.yaml"), new RunCase(-1).Yaml());
    }

    public string Root { get; }

    /// <summary>The valid project every case starts from; after the first run its out/ holds two shipped targets.</summary>
    public string Seed { get; }

    public string Outside { get; }

    /// <summary>A copy of the seed (with the seed run's outputs) with the case's edits applied.</summary>
    public string NewCase(RunCase c)
    {
        string dir = Path.Combine(Root, $"case-{c.Index}");
        Run("cp", "-a", Seed, dir);
        File.WriteAllText(Path.Combine(dir, "quantize.yaml"), c.Yaml());
        if (c.DataMutation is { } data)
        {
            RunCase.MutateBytes(Path.Combine(dir, data.File), data.Seed);
        }

        if (c.ModelMutation is { } model)
        {
            RunCase.MutateBytes(Path.Combine(dir, "model.onnx"), model);
        }

        string output = Path.Combine(dir, "out");
        string shipped = Path.Combine(output, "model.x64.onnx");
        switch (c.OutputHazard)
        {
            case RunCase.Hazard.OutputIsFile:
                Directory.Delete(output, recursive: true);
                File.WriteAllText(output, "not a folder");
                break;
            case RunCase.Hazard.ModelPathIsFolder:
                File.Delete(shipped);
                Directory.CreateDirectory(shipped);
                File.WriteAllText(Path.Combine(shipped, "keep.txt"), "a folder in the model's place");
                break;
            case RunCase.Hazard.ModelPathLinksOutside:
                File.Delete(shipped);
                File.CreateSymbolicLink(shipped, Path.Combine(Outside, "secret.bin"));
                break;
            case RunCase.Hazard.KilledRunLeftovers:
                File.WriteAllBytes(Path.Combine(output, ".model.x64.onnx.999999.0123456789abcdef0123456789abcdef.tmp"), new byte[100]);
                byte[] half = File.ReadAllBytes(shipped);
                File.WriteAllBytes(shipped, half[..(half.Length / 2)]);
                break;
        }

        return dir;
    }

    public Dictionary<string, string> OutsideHashes() =>
        Directory.EnumerateFiles(Outside).ToDictionary(f => Path.GetFileName(f), f => RunFuzzTests.Sha(f), StringComparer.Ordinal);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Images(string folder, string name, byte[] body, int rows) =>
        NpyBytes.Write(Path.Combine(folder, name), "<f4", [rows, 1, 28, 28], body);

    private static byte[] Floats(byte[] body, Func<int, float, float> map)
    {
        float[] values = new float[body.Length / 4];
        Buffer.BlockCopy(body, 0, values, 0, body.Length);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = map(i, values[i]);
        }

        byte[] result = new byte[body.Length];
        Buffer.BlockCopy(values, 0, result, 0, result.Length);
        return result;
    }

    private static void Run(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { UseShellExecute = false };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} exited {process.ExitCode}");
        }
    }
}
