using System.Globalization;
using QuantBuild.Abstractions.Devices;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Binds a target's <c>weights</c>: bits, granularity and block size, and for 4-bit weights the written format, zero
/// points and MatMulNBits accuracy level. Every combination the encoder could not honour is refused here, before the
/// fp32 baseline runs.
/// </summary>
internal sealed class WeightsBinder
{
    /// <summary>The yaml names of <see cref="FourBitFormat"/>, in enum order.</summary>
    public static readonly IReadOnlyList<string> FormatNames = ["matmulnbits", "qdq-blocked"];

    // What QdqEncoder writes for round-to-nearest weights (its Validate refuses any other width).
    private static readonly int[] EncoderBits = [4, 8];

    // Keys that only describe 4-bit weights: at 8 bits the encoder has nothing to apply them to.
    private static readonly string[] FourBitKeys = ["format", "zero_point", "accuracy_level"];

    private readonly ConfigReader _r;

    public WeightsBinder(ConfigReader reader) => _r = reader;

    /// <summary>The format a target gets without a <c>weights</c> section.</summary>
    public static WeightFormat Default(DeviceProfile? device) => new()
    {
        Bits = 8,
        Granularity = device is { Kernels.PerChannelWeights: false } ? WeightGranularity.PerTensor : WeightGranularity.PerChannel,
    };

    public WeightFormat Bind(ConfigNode node, string path, DeviceProfile? device)
    {
        WeightFormat fallback = Default(device);
        if (_r.AsMapping(node, path) is not { } map)
        {
            return fallback;
        }

        _r.CheckKeys(map, QuantizeConfigKeys.Weights, path);
        int bits = _r.Integer(map, "bits", path + ".bits") ?? 8;
        if (Array.IndexOf(EncoderBits, bits) < 0)
        {
            // Refused here, before the fp32 baseline runs: the encoder would only fail with QB3006 after it.
            _r.Error(ConfigErrorCodes.OutOfRange, $"'{path}.bits' must be 4 or 8, the widths the QDQ encoder writes; got {bits}",
                "use 8 (int8), or 4 (blocked int4 MatMul weights); for 2-7-bit weights keep 8 here and add a pass that codes them (nupes, or adaquant with 'bits:')",
                ConfigReader.At(map, "bits", map.Location));
        }
        else if (device is not null && !device.Kernels.WeightBits.Contains(bits))
        {
            _r.Error(ConfigErrorCodes.NotSupportedByDevice, $"device '{device.Name}' cannot run {bits}-bit weights",
                $"use one of the bit widths it runs: {string.Join(", ", device.Kernels.WeightBits)}", ConfigReader.At(map, "bits", map.Location));
        }

        WeightGranularity granularity = Granularity(map, path, device, fallback.Granularity);
        int? block = _r.Integer(map, "block_size", path + ".block_size");
        if (block is { } b && (b < 16 || (b & (b - 1)) != 0))
        {
            _r.Range(map.Find("block_size")!.Value, map.Location, path + ".block_size", "a power of two, 16 or more", b.ToString(CultureInfo.InvariantCulture));
        }

        if (granularity == WeightGranularity.Block && bits == 8)
        {
            // The encoder blocks only 4-bit MatMul weights; 8-bit weights would silently get per-channel scales.
            _r.Error(ConfigErrorCodes.Conflict, $"'{path}.granularity: block' applies to 4-bit weights; the encoder writes 8-bit weights per channel or per tensor",
                "set 'bits: 4' for blocked 4-bit MatMul weights, or use 'granularity: per-channel' or 'per-tensor'", ConfigReader.At(map, "granularity", map.Location));
        }
        else if (granularity == WeightGranularity.Block && block is null && ConfigReader.Value(map, "block_size") is null)
        {
            _r.Missing("block_size", path, ConfigReader.At(map, "granularity", map.Location), "add 'block_size: 32' (a power of two, 16 or more)");
        }
        else if (granularity != WeightGranularity.Block && bits != 4 && map.Find("block_size") is { } bs)
        {
            // At 4 bits the MatMul weights are always blocked, so a block size needs no 'granularity: block'.
            _r.Error(ConfigErrorCodes.Conflict, $"'{path}.block_size' only applies to 4-bit weights or 'granularity: block'",
                "set 'bits: 4' or 'granularity: block', or remove 'block_size'", bs.Key.Location);
        }

        if (bits != 4)
        {
            foreach (string key in FourBitKeys)
            {
                if (map.Find(key) is { } entry)
                {
                    _r.Error(ConfigErrorCodes.Conflict, $"'{path}.{key}' describes 4-bit weights, but this target writes {bits}-bit weights",
                        $"set 'bits: 4', or remove '{key}'", entry.Key.Location);
                }
            }
        }

        FourBitFormat format = Format(map, path);
        bool zeroPoint = _r.Bool(map, "zero_point", path + ".zero_point") ?? false;
        int accuracy = _r.Integer(map, "accuracy_level", path + ".accuracy_level") ?? WeightFormat.DefaultAccuracyLevel;
        if (accuracy is < 0 or > 4)
        {
            _r.Range(map.Find("accuracy_level")!.Value, map.Location, path + ".accuracy_level",
                "0 to 4 (0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8)", accuracy.ToString(CultureInfo.InvariantCulture));
        }

        return new WeightFormat
        {
            Bits = bits,
            Granularity = granularity,
            BlockSize = granularity == WeightGranularity.Block || bits == 4 ? block : null,
            Format = format,
            ZeroPoint = zeroPoint,
            AccuracyLevel = accuracy,
            Location = map.Location,
        };
    }

    private WeightGranularity Granularity(ConfigMapping map, string path, DeviceProfile? device, WeightGranularity fallback)
    {
        string? g = _r.String(map, "granularity", path + ".granularity");
        string[] names = ["per-channel", "per-tensor", "block"];
        if (g is null)
        {
            return fallback;
        }

        int i = Array.IndexOf(names, g.Replace('_', '-'));
        if (i < 0)
        {
            _r.Error(ConfigErrorCodes.UnknownValue, $"unknown weight granularity '{g}'.{NameSuggester.DidYouMean(g, names)}",
                $"use one of: {string.Join(", ", names)}", map.Find("granularity")!.Value.Location);
            return fallback;
        }

        var granularity = (WeightGranularity)i;
        if (granularity != WeightGranularity.PerTensor && device is { Kernels.PerChannelWeights: false })
        {
            _r.Error(ConfigErrorCodes.NotSupportedByDevice, $"device '{device.Name}' has no per-channel weight scales, so '{g}' cannot run there",
                "use 'granularity: per-tensor' or a device profile with per-channel weights", map.Find("granularity")!.Value.Location);
        }

        return granularity;
    }

    private FourBitFormat Format(ConfigMapping map, string path)
    {
        string? f = _r.String(map, "format", path + ".format");
        if (f is null)
        {
            return WeightFormat.DefaultFormat;
        }

        int i = -1;
        for (int n = 0; n < FormatNames.Count; n++)
        {
            if (string.Equals(FormatNames[n], f.Replace('_', '-'), StringComparison.OrdinalIgnoreCase))
            {
                i = n;
            }
        }

        if (i < 0)
        {
            _r.Error(ConfigErrorCodes.UnknownValue, $"unknown 4-bit weight format '{f}'.{NameSuggester.DidYouMean(f, FormatNames)}",
                $"use one of: {string.Join(", ", FormatNames)}", map.Find("format")!.Value.Location);
            return WeightFormat.DefaultFormat;
        }

        return (FourBitFormat)i;
    }
}
