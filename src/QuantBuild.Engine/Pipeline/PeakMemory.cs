using System.Diagnostics;
using System.Globalization;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// The process's peak resident memory, per stage where the OS allows it, without disturbing the process's own
/// high-water mark. On Linux the kernel's mark (VmHWM, which is also what <c>getrusage</c>'s <c>ru_maxrss</c> and
/// <c>/usr/bin/time -v</c> report at exit) is read but never reset: a stage that raised it peaked at exactly the new
/// mark; a stage that stayed below it reports the largest resident size (VmRSS) a background sampler saw during the
/// stage (every <see cref="SampleInterval"/>, so a shorter spike can be missed there, never above the process's mark).
/// Resetting the mark instead (writing 5 to /proc/self/clear_refs) made every outside measurement report only the
/// last stage's peak: a run whose calibration peaked at 2.2 GB showed 383 MB under <c>/usr/bin/time -v</c>.
/// Elsewhere the peak working set since the process started is reported.
/// </summary>
public static class PeakMemory
{
    /// <summary>How often the resident size is sampled between laps.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(50);

    private static readonly object Gate = new();
    private static long _lastMark;
    private static long _sampledMax;
    private static Thread? _sampler;

    /// <summary>
    /// The peak resident bytes since the last call (or process start): the kernel's mark when it rose since the last
    /// call, else the largest sampled resident size since then. Starts the sampler on first use.
    /// </summary>
    public static long TakePeak()
    {
        long? mark = ReadStatus("VmHWM:");
        if (mark is null)
        {
            using var self = Process.GetCurrentProcess();
            return self.PeakWorkingSet64;
        }

        long now = ReadStatus("VmRSS:") ?? 0;
        lock (Gate)
        {
            EnsureSampler();
            long peak = mark.Value > _lastMark ? mark.Value : Math.Max(_sampledMax, now);
            _lastMark = mark.Value;
            _sampledMax = now;
            return peak;
        }
    }

    /// <summary>The process's peak resident bytes since it started (VmHWM on Linux), or null where the OS does not say.</summary>
    public static long? ProcessPeak() => ReadStatus("VmHWM:");

    /// <summary>The process's resident bytes now (VmRSS on Linux), or null where the OS does not say.</summary>
    public static long? Resident() => ReadStatus("VmRSS:");

    private static void EnsureSampler()
    {
        if (_sampler is not null)
        {
            return;
        }

        _sampler = new Thread(Sample) { IsBackground = true, Name = "quantbuild peak-RSS sampler", Priority = ThreadPriority.AboveNormal };
        _sampler.Start();
    }

    private static void Sample()
    {
        while (true)
        {
            Thread.Sleep(SampleInterval);
            if (ReadStatus("VmRSS:") is long rss)
            {
                lock (Gate)
                {
                    _sampledMax = Math.Max(_sampledMax, rss);
                }
            }
        }
    }

    private static long? ReadStatus(string key)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    string kb = line[key.Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }

        return null;
    }
}
