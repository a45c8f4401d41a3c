using System.Buffers.Binary;
using System.Security.Cryptography;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// One cache entry as one object in a remote store: <c>QBCACHE1</c>, the length of entry.json (int32, little endian),
/// entry.json as the local cache writes it, then the model. One object, so one conditional commit makes the whole
/// entry visible at once; its SHA-256 travels beside it and the model's SHA-256 inside entry.json.
/// </summary>
public static class CachePayload
{
    private static readonly byte[] Magic = "QBCACHE1"u8.ToArray();

    /// <summary>Packs an entry.</summary>
    public static byte[] Pack(CacheEntry entry)
    {
        byte[] json = ResultCache.EntryJson(entry.Key, entry.ModelSha256, entry.Result);
        var payload = new byte[Magic.Length + 4 + json.Length + entry.Model.Length];
        Magic.CopyTo(payload, 0);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(Magic.Length), json.Length);
        json.CopyTo(payload, Magic.Length + 4);
        entry.Model.CopyTo(payload, Magic.Length + 4 + json.Length);
        return payload;
    }

    /// <summary>SHA-256 of a payload, lower-case hex.</summary>
    public static string Sha256(ReadOnlySpan<byte> payload) => CacheKey.Hex(SHA256.HashData(payload));

    /// <summary>
    /// Unpacks and checks a downloaded entry: the payload's SHA-256 against the one recorded beside it, the layout,
    /// the key, and the model's SHA-256 against entry.json.
    /// </summary>
    /// <returns>The entry, or null with <paramref name="problem"/> saying what was wrong.</returns>
    public static CacheEntry? Unpack(string key, RemoteBlob blob, out string? problem)
    {
        byte[] payload = blob.Content;
        if (blob.Sha256 is null)
        {
            problem = "it has no recorded sha256";
            return null;
        }

        string actual = Sha256(payload);
        if (!string.Equals(actual, blob.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            problem = $"its sha256 is {actual[..12]}…, the writer recorded {blob.Sha256[..Math.Min(12, blob.Sha256.Length)]}…";
            return null;
        }

        if (payload.Length < Magic.Length + 4 || !payload.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            problem = "it is not a QuantBuild cache entry";
            return null;
        }

        int jsonLength = BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(Magic.Length));
        if (jsonLength <= 0 || jsonLength > payload.Length - Magic.Length - 4)
        {
            problem = "its entry.json length is out of range";
            return null;
        }

        byte[] model = payload.AsSpan(Magic.Length + 4 + jsonLength).ToArray();
        CacheEntry? entry = ResultCache.ParseEntry(key, payload.AsSpan(Magic.Length + 4, jsonLength), model);
        problem = entry is null ? "its entry.json does not match its key or its model's sha256" : null;
        return entry;
    }
}
