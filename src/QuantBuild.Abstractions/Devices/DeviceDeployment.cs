namespace QuantBuild.Abstractions.Devices;

/// <summary>How a model is shipped to a device and run there.</summary>
public sealed record DeviceDeployment
{
    /// <summary>.NET runtime identifiers this device serves (a publish for one of them picks its profile).</summary>
    public required IReadOnlyList<string> RuntimeIdentifiers { get; init; }

    /// <summary>ONNX Runtime session config entries the device deploys with; the gate runs with exactly these.</summary>
    public required IReadOnlyDictionary<string, string> SessionConfig { get; init; }
}
