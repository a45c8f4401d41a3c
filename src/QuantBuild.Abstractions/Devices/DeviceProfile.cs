namespace QuantBuild.Abstractions.Devices;

/// <summary>
/// A deployment target, in two halves: <see cref="Kernels"/>, what the hardware runs (the integer formats its kernels
/// take, which ops stay integer), which is what passes quantize for; and <see cref="Deployment"/>, how the model is
/// shipped and run there (the .NET runtime identifiers it serves, the ONNX Runtime session settings the gate uses too).
/// A recipe that asks for anything the kernels cannot run is a config error, never a surprise on the device.
/// </summary>
public sealed record DeviceProfile
{
    /// <summary>The profile's name as written in quantize.yaml, for example <c>cpu-x64-vnni</c>.</summary>
    public required string Name { get; init; }

    /// <summary>One line for people.</summary>
    public required string Description { get; init; }

    /// <summary>What the hardware runs.</summary>
    public required DeviceKernels Kernels { get; init; }

    /// <summary>How the model is deployed and run there.</summary>
    public required DeviceDeployment Deployment { get; init; }
}
