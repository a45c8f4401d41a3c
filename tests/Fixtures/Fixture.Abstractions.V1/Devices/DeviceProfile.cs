namespace QuantBuild.Abstractions.Devices;

public sealed record DeviceProfile
{
    public required string Name { get; init; }

    public required bool ReduceRange { get; init; }
}
