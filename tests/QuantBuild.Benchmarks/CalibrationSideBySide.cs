using System.Diagnostics;
using QuantBuild.Engine.Calibration;

namespace QuantBuild.Benchmarks;

/// <summary>
/// <c>-- calibration-side-by-side [samples] [rounds]</c>: the cases of <see cref="CalibrationBenchmarks"/> that issue 14's
/// done-when compares (the bare passes, min/max, histograms), run in rounds, each round running every case once in an
/// order that rotates from round to round, and reported as the median over the rounds of each case's time divided by
/// the same round's baseline. On a shared host whose speed drifts over seconds, BenchmarkDotNet's case-after-case runs
/// put the drift into the ratios; pairs taken a few milliseconds apart do not. Three warm-up rounds are not counted.
/// Each case's fastest round, and its ratio to the fastest baseline, are shown too: a busy host only ever adds time,
/// so the fastest rounds are the closest to what the code itself costs.
/// </summary>
public static class CalibrationSideBySide
{
    public static int Run(string[] args)
    {
        int samples = args.Length > 0 ? int.Parse(args[0]) : 256;
        int rounds = args.Length > 1 ? int.Parse(args[1]) : 41;
        var bench = new CalibrationBenchmarks { Samples = samples };
        bench.Setup();
        try
        {
            (string Name, Func<object> Case)[] cases =
            [
                ("bare passes (baseline)", () => bench.ForwardPasses()),
                ("Calibrator.Run, min/max only", bench.CalibrateMinMax),
                ("Calibrator.Run, histograms (auto)", bench.Calibrate),
            ];
            var times = cases.Select(_ => new List<double>()).ToArray();
            // The calibrator's own count of its time in ORT's Run, so the rest (session, observing) can be told apart.
            var runtimes = cases.Select(_ => new List<double>()).ToArray();
            // Tensors the calibrator took in ORT's blocked layout (the last round's), which decides most of its ORT time.
            var blocked = new int[cases.Length];
            string loadBefore = File.ReadAllText("/proc/loadavg").Trim();
            long[] cpuBefore = CpuTimes();
            for (int round = -3; round < rounds; round++)
            {
                var taken = new double[cases.Length];
                var runs = new double[cases.Length];
                for (int k = 0; k < cases.Length; k++)
                {
                    int c = (k + Math.Max(round, 0)) % cases.Length;
                    var watch = Stopwatch.StartNew();
                    object result = cases[c].Case();
                    taken[c] = watch.Elapsed.TotalMilliseconds;
                    runs[c] = result is CalibrationResult calibration ? calibration.RuntimeTime.TotalMilliseconds : double.NaN;
                    blocked[c] = result is CalibrationResult withLayout ? withLayout.BlockedLayoutTensors : -1;
                }

                if (round >= 0)
                {
                    for (int c = 0; c < cases.Length; c++)
                    {
                        times[c].Add(taken[c]);
                        runtimes[c].Add(runs[c]);
                    }
                }
            }

            long[] cpuAfter = CpuTimes();
            Console.WriteLine($"// {samples} samples, {rounds} rounds; load average before {loadBefore}, after {File.ReadAllText("/proc/loadavg").Trim()}; {Steal(cpuBefore, cpuAfter)}");
            Console.WriteLine($"| case | median | of which in ORT's Run | ratio (median of the rounds' ratios) | ratio p25–p75 | fastest | ratio of the fastest |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
            for (int c = 0; c < cases.Length; c++)
            {
                List<double> ratios = times[c].Select((t, r) => t / times[0][r]).Order().ToList();
                string inRuns = double.IsNaN(runtimes[c][0]) ? "–" : $"{Median(runtimes[c]):F2} ms ({blocked[c]} blocked)";
                Console.WriteLine($"| {cases[c].Name} | {Median(times[c]):F2} ms | {inRuns} | {Median(ratios):F2} | {ratios[ratios.Count / 4]:F2}–{ratios[ratios.Count * 3 / 4]:F2} | {times[c].Min():F2} ms | {times[c].Min() / times[0].Min():F2} |");
            }
        }
        finally
        {
            bench.Cleanup();
        }

        return 0;
    }

    // The "cpu" line of /proc/stat (user, nice, system, idle, iowait, irq, softirq, steal, ...), in clock ticks; empty where there is none.
    private static long[] CpuTimes()
    {
        string? line = File.Exists("/proc/stat") ? File.ReadLines("/proc/stat").FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal)) : null;
        return line is null ? [] : line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
    }

    // The share of the host's CPU time the hypervisor gave to other guests while the rounds ran (steal), which a load
    // average does not show: time this machine's cores wanted to run and could not.
    private static string Steal(long[] before, long[] after)
    {
        if (before.Length < 8 || after.Length < 8)
        {
            return "steal not known";
        }

        long total = after.Take(8).Sum() - before.Take(8).Sum();
        long steal = after[7] - before[7];
        return $"CPU steal {100.0 * steal / Math.Max(1, total):F1} % of the cores' time during the rounds";
    }

    private static double Median(List<double> values)
    {
        List<double> sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
