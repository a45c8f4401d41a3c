using System.Diagnostics;
using System.Globalization;
using System.Text;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Quantization;
using QuantBuild.Onnx;

namespace QuantBuild.Benchmarks;

/// <summary>
/// <c>-- memory [counts...]</c>: does calibration memory stay flat as the sample count grows? Writes .npy files of
/// 256, 2048 and 8192 samples (the 2000 eval images, repeated, each repeat in a different permutation) to a temp
/// folder, then calibrates the sample's x64 plan over each in a fresh child process, so every peak RSS is that
/// count's alone. Peak managed heap is sampled every 2 ms while the calibrator runs.
/// </summary>
public static class CalibrationMemory
{
    private const string ChildVerb = "memory-one";

    /// <summary>Parent: makes the data, runs one child per count, prints a Markdown table.</summary>
    public static int Run(string[] args)
    {
        long[] counts = args.Length > 0 ? args.Select(a => long.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [256, 2048, 8192];
        QuantizeConfig config = QuantizeConfigLoader.Load(SampleQuantization.ConfigPath);
        string folder = Path.Combine(Path.GetTempPath(), "qb-bench-memory-" + Environment.ProcessId);
        Directory.CreateDirectory(folder);
        try
        {
            Console.WriteLine($"// {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine("| samples | batches | .npy size | calibrate | peak managed heap | managed after full GC | managed allocated | gen0/1/2 GCs | RSS before | peak RSS (VmHWM) |");
            Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (long count in counts)
            {
                string npy = Path.Combine(folder, $"calibration-{count}.npy");
                WriteRepeated(config.Evaluation!.Data.Path!, npy, count);
                Console.WriteLine(RunChild(npy, count, new FileInfo(npy).Length));
                File.Delete(npy);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        return 0;
    }

    /// <summary>Child: calibrates over one file and prints one table row.</summary>
    public static int Child(string[] args)
    {
        string npy = args[0];
        long fileBytes = long.Parse(args[1], CultureInfo.InvariantCulture);
        QuantizeConfig config = QuantizeConfigLoader.Load(SampleQuantization.ConfigPath);
        TargetConfig target = config.Targets.First(t => t.Name == "x64");
        OnnxModel model = OnnxModelLoader.Load(config.ModelPath);
        string input = Batcher.ModelInputs(model).Single().Name;
        using var data = NpyDataSource.Single(input, npy);
        var request = new CalibrationRequest
        {
            Tensors = QdqEncoder.Plan(model, new EncodeOptions { Profile = target.Device }),
            BatchSize = config.Calibration.BatchSize,
        };

        GC.Collect();
        long rssBefore = Environment.WorkingSet;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        int[] gcBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        long peakManaged = GC.GetTotalMemory(forceFullCollection: false);
        using var stop = new CancellationTokenSource();
        var sampler = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(forceFullCollection: false));
                Thread.Sleep(2);
            }
        }) { IsBackground = true };
        sampler.Start();
        CalibrationResult result = Calibrator.Run(model, data, request);
        stop.Cancel();
        sampler.Join();
        peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(forceFullCollection: false));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        string gcs = $"{GC.CollectionCount(0) - gcBefore[0]}/{GC.CollectionCount(1) - gcBefore[1]}/{GC.CollectionCount(2) - gcBefore[2]}";
        long retained = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(result);
        long batches = (result.Samples + request.BatchSize - 1) / request.BatchSize;
        Console.WriteLine($"| {result.Samples} | {batches} | {Mb(fileBytes)} | {result.Elapsed.TotalSeconds:F2} s | {Mb(peakManaged)} | {Mb(retained)} | {Mb(allocated)} | {gcs} | {Mb(rssBefore)} | {Mb(PeakRss())} |");
        return 0;
    }

    private static string RunChild(string npy, long count, long fileBytes)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(typeof(CalibrationMemory).Assembly.Location);
        }

        start.ArgumentList.Add(ChildVerb);
        start.ArgumentList.Add(npy);
        start.ArgumentList.Add(fileBytes.ToString(CultureInfo.InvariantCulture));
        using Process child = Process.Start(start)!;
        Task<string> errors = child.StandardError.ReadToEndAsync();
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"calibration child for {count} samples exited {child.ExitCode}: {errors.Result}");
        }

        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('|'));
    }

    /// <summary>The process's peak resident set (VmHWM), in bytes.</summary>
    public static long PeakRss()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return -1;
    }

    /// <summary>Writes <paramref name="count"/> rows of <paramref name="source"/>: repeat k is the rows in permutation Random(k).</summary>
    internal static void WriteRepeated(string source, string target, long count)
    {
        using NpyFile file = NpyFile.Open(source);
        var all = file.ReadRows(0, (int)file.RowCount);
        byte[] rows = all.Data.ToArray();
        int rowBytes = rows.Length / (int)file.RowCount;
        long[] shape = all.ShapeArray();
        shape[0] = count;
        string dims = string.Join(", ", shape) + (shape.Length == 1 ? "," : string.Empty);
        string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        int padded = (10 + header.Length + 1 + 63) / 64 * 64 - 10;
        header = header.PadRight(padded - 1) + "\n";
        using var stream = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        int[] order = Enumerable.Range(0, (int)file.RowCount).ToArray();
        for (long i = 0; i < count; i++)
        {
            int within = (int)(i % order.Length);
            if (within == 0)
            {
                order = Enumerable.Range(0, (int)file.RowCount).ToArray();
                new Random((int)(i / order.Length)).Shuffle(order);
            }

            stream.Write(rows, order[within] * rowBytes, rowBytes);
        }
    }

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MB";
}
