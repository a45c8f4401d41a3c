using System.Globalization;

namespace QuantBuild.Cli;

/// <summary>Human-readable byte sizes and counts for terminal output.</summary>
public static class Sizes
{
    /// <summary>Formats a byte count as B, KB, MB or GB (powers of 1024, one decimal).</summary>
    public static string Bytes(long bytes)
    {
        string[] units = { "B", "KB", "MB", "GB", "TB" };
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    /// <summary>Formats a count with thousands separators.</summary>
    public static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);
}
