using System.Globalization;

namespace QuantBuild.Engine.Config;

/// <summary>Binds a target's <c>fallback</c>, <c>budget</c> and <c>size</c> keys.</summary>
internal sealed class FallbackBinder(ConfigReader r)
{
    public FallbackConfig? Bind(ConfigMapping target, string path)
    {
        string? mode = r.String(target, "fallback", path + ".fallback");
        SourceLocation at = ConfigReader.At(target, "fallback", target.Location);
        if (mode is not null and not ("auto" or "off"))
        {
            r.Error(ConfigErrorCodes.UnknownValue, $"'{path}.fallback' must be auto or off, got '{mode}'",
                "write 'fallback: auto' to keep sensitive layers in higher precision when the gate fails", at);
            return null;
        }

        bool auto = mode == "auto";
        foreach (string key in new[] { "budget", "size" })
        {
            if (!auto && ConfigReader.Value(target, key) is not null)
            {
                r.Error(ConfigErrorCodes.Conflict, $"'{path}.{key}' only applies with 'fallback: auto'",
                    $"add 'fallback: auto' to the target, or remove '{key}'", ConfigReader.At(target, key, target.Location));
            }
        }

        if (!auto)
        {
            return null;
        }

        var config = new FallbackConfig { Location = at };
        if (ConfigReader.Value(target, "budget") is { } bNode && r.AsMapping(bNode, path + ".budget") is { } budget)
        {
            r.CheckKeys(budget, QuantizeConfigKeys.Budget, path + ".budget");
            int trials = r.Integer(budget, "trials", path + ".budget.trials") ?? config.MaxTrials;
            double seconds = r.Number(budget, "seconds", path + ".budget.seconds") ?? config.MaxSeconds;
            Positive(budget, "trials", path + ".budget.trials", trials);
            Positive(budget, "seconds", path + ".budget.seconds", seconds);
            config = config with { MaxTrials = trials, MaxSeconds = seconds };
        }

        if (ConfigReader.Value(target, "size") is { } sNode && r.AsMapping(sNode, path + ".size") is { } size)
        {
            r.CheckKeys(size, QuantizeConfigKeys.Size, path + ".size");
            double? bits = r.Number(size, "max_bits_per_weight", path + ".size.max_bits_per_weight");
            double? bytes = r.Number(size, "max_bytes", path + ".size.max_bytes");
            if (bits is double b && b is < 2 or > 32)
            {
                r.Range(size.Find("max_bits_per_weight")?.Value, size.Location, path + ".size.max_bits_per_weight", "from 2 to 32", ConfigReader.Format(b));
            }

            if (bytes is double n)
            {
                Positive(size, "max_bytes", path + ".size.max_bytes", n);
            }

            config = config with { MaxBitsPerWeight = bits, MaxBytes = bytes is double x ? (long)x : null };
        }

        return config;
    }

    private void Positive(ConfigMapping map, string key, string path, double value)
    {
        if (value <= 0)
        {
            r.Range(map.Find(key)?.Value, map.Location, path, "greater than 0", value.ToString(CultureInfo.InvariantCulture));
        }
    }
}
