using System.Collections.Frozen;
using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Quantization.Operators;

namespace QuantBuild.Engine.Profiles;

/// <summary>The device profiles QuantBuild knows, by name.</summary>
public static class DeviceProfiles
{
    // ONNX Runtime's CPU provider runs every op family the quantizer registry can put in integer form (its QDQ
    // transformer's rules); the profile is a query of the registry, not a second list.
    private static readonly IReadOnlySet<string> CpuIntegerOps =
        OpQuantizerRegistry.CreateBuiltIn().IntegerOpTypes().ToFrozenSet(StringComparer.Ordinal);

    private static readonly IReadOnlyDictionary<string, string> NoConfig = new Dictionary<string, string>();

    /// <summary>x64 with AVX-512 VNNI or AVX-VNNI: u8 activations × s8 weights, full 8-bit range.</summary>
    public static readonly DeviceProfile CpuX64Vnni = new()
    {
        Name = "cpu-x64-vnni",
        Description = "x64 CPU with AVX-512 VNNI or AVX-VNNI (ONNX Runtime CPU provider): uint8 activations, int8 per-channel weights",
        // Only RIDs ONNX Runtime ships a library for (onnxruntime-node: no osx-x64, no musl): a publish for another RID
        // gets QB5003/QB5006 instead of a model it cannot load.
        Kernels = new DeviceKernels
        {
            ActivationType = ElementType.UInt8,
            SymmetricActivations = false,
            PerChannelWeights = true,
            ReduceRange = false,
            WeightBits = new[] { 2, 3, 4, 5, 6, 7, 8 },
            IntegerOps = CpuIntegerOps,
        },
        Deployment = new DeviceDeployment { RuntimeIdentifiers = new[] { "linux-x64", "win-x64" }, SessionConfig = NoConfig },
    };

    /// <summary>x64 with AVX2 only: as VNNI but 7-bit weights, which its 16-bit accumulation needs.</summary>
    public static readonly DeviceProfile CpuX64Avx2 = CpuX64Vnni with
    {
        Name = "cpu-x64-avx2",
        Description = "x64 CPU with AVX2 but no VNNI: uint8 activations, int8 per-channel weights in reduced (7-bit) range",
        Kernels = CpuX64Vnni.Kernels with { ReduceRange = true },
    };

    /// <summary>ARM64 (Neon dot-product kernels): s8 activations and weights.</summary>
    public static readonly DeviceProfile CpuArm64 = new()
    {
        Name = "cpu-arm64",
        Description = "ARM64 CPU (ONNX Runtime CPU provider, Neon dot product): int8 symmetric activations, int8 per-channel weights",
        Kernels = new DeviceKernels
        {
            ActivationType = ElementType.Int8,
            SymmetricActivations = true,
            PerChannelWeights = true,
            ReduceRange = false,
            WeightBits = new[] { 2, 3, 4, 5, 6, 7, 8 },
            IntegerOps = CpuIntegerOps,
        },
        Deployment = new DeviceDeployment { RuntimeIdentifiers = new[] { "linux-arm64", "osx-arm64", "win-arm64" }, SessionConfig = NoConfig },
    };

    /// <summary>Every known profile, by name.</summary>
    public static readonly IReadOnlyDictionary<string, DeviceProfile> All = new[] { CpuX64Vnni, CpuX64Avx2, CpuArm64 }
        .ToFrozenDictionary(p => p.Name, StringComparer.Ordinal);

    /// <summary>The profile called <paramref name="name"/>, or null.</summary>
    public static DeviceProfile? Find(string name) => All.TryGetValue(name, out DeviceProfile? p) ? p : null;
}
