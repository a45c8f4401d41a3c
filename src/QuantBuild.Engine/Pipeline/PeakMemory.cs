using System.Diagnostics;
using System.Globalization;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// The process's peak resident memory, per stage where the OS allows it. On Linux the kernel's high-water mark
/// (VmHWM) is read and then reset to the current size (writing 5 to /proc/self/clear_refs), so each stage reports its
/// own peak; elsewhere the peak working set since the process started is reported.
/// </summary>
public static class PeakMemory
{
    /// <summary>The peak resident bytes since the last call (or process start), and resets the mark where possible.</summary>
    public static long TakePeak()
    {
        long? hwm = ReadStatus("VmHWM:");
        if (hwm is null)
        {
            using var self = Process.GetCurrentProcess();
            return self.PeakWorkingSet64;
        }

        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Older kernels or a locked-down container: later stages then report the process-wide peak.
        }

        return hwm.Value;
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
