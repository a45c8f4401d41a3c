using System.Diagnostics;
using System.Globalization;

namespace QuantBuild.Engine.Files;

/// <summary>
/// Finds what a killed run left behind: temp files and folders whose names carry the writer's process id. One whose
/// process is gone will never be renamed into place, so a later run removes it; one whose process still runs belongs
/// to a concurrent build and is left alone.
/// </summary>
internal static class StaleTemp
{
    /// <summary>True when <paramref name="pidText"/> names no running process (or is not a process id at all).</summary>
    public static bool OwnerGone(string pidText)
    {
        if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
        {
            return false;
        }

        if (pid == Environment.ProcessId)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    /// <summary>Deletes <paramref name="path"/> (file or folder); a failure leaves it for the next run and never fails this one.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still in use or read-only: the next run tries again.
        }
    }
}
