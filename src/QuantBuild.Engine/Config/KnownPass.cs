using QuantBuild.Abstractions.Devices;

namespace QuantBuild.Engine.Config;

/// <summary>
/// A pass the plugin host can run, as validation needs to know it: its name, which plugin provides it, the type its
/// options bind to (checked by <see cref="PassOptionsBinder"/> during validation when given), and the devices it runs on.
/// </summary>
/// <param name="Name">The name written after <c>pass:</c>.</param>
/// <param name="Provider">The plugin that provides it, for messages ("built-in" for the engine's own).</param>
/// <param name="OptionsType">The options type, or null to leave option checking to the pass.</param>
/// <param name="SupportsDevice">Whether the pass can target a device profile, or null for every profile.</param>
public sealed record KnownPass(string Name, string Provider, Type? OptionsType = null, Func<DeviceProfile, bool>? SupportsDevice = null);
