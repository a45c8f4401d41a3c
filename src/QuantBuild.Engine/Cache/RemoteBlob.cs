namespace QuantBuild.Engine.Cache;

/// <summary>A downloaded entry as the remote store holds it, before any check.</summary>
/// <param name="Content">The payload bytes (<see cref="CachePayload"/>).</param>
/// <param name="Sha256">The SHA-256 its writer recorded beside it, or null when none was.</param>
/// <param name="Version">The store's version of the object (an ETag), to delete exactly this one if it is damaged.</param>
public sealed record RemoteBlob(byte[] Content, string? Sha256, string? Version);
