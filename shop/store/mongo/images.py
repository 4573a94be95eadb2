"""Image files in MongoDB's GridFS (bucket `media`), seen by every shop process.

A GridFS file is its chunks plus a document in `media.files`, written last: a file is
visible only once whole. Deleting removes the document first, then the chunks, as the
driver's own `delete` does. Chunks a killed process left without their document are
removed by `drop_leftovers`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket, NoFile
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shop.store.mongo import docs
from shop.store.mongo.docs import Doc

BUCKET = "media"
_BATCH = 1000


@docs.report_unavailable
class MongoImages:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)
        self._files: AsyncCollection[Doc] = db[f"{BUCKET}.files"]
        self._chunks: AsyncCollection[Doc] = db[f"{BUCKET}.chunks"]

    async def prepare(self) -> None:
        # The indexes the GridFS specification names (the driver makes them on the first
        # upload too), and one for the sweep's scan by age.
        await self._files.create_indexes(
            [
                IndexModel([("filename", ASCENDING), ("uploadDate", ASCENDING)]),
                IndexModel("uploadDate"),
            ]
        )
        await self._chunks.create_indexes(
            [IndexModel([("files_id", ASCENDING), ("n", ASCENDING)], unique=True)]
        )

    async def put(self, name: str, data: bytes) -> None:
        await self._bucket.upload_from_stream(name, data)

    async def get(self, name: str) -> bytes | None:
        try:
            stream = await self._bucket.open_download_stream_by_name(name)
        except NoFile:
            return None
        return await stream.read()

    async def delete(self, names: Iterable[str]) -> None:
        await self._delete_matching({"filename": {"$in": list(names)}})

    async def delete_product(self, pid: str) -> None:
        # Names start with the product's id; an anchored prefix walks the filename index.
        await self._delete_matching({"filename": {"$regex": f"^{ObjectId(pid)}/"}})

    async def stored_before(self, when: float) -> list[str]:
        cursor = self._files.find(
            {"uploadDate": {"$lt": docs.as_datetime(when)}}, {"filename": 1, "_id": 0}
        )
        return [doc["filename"] async for doc in cursor]

    async def drop_leftovers(self, when: float) -> int:
        # Every file's chunk 0, started before `when` (a file's id is an ObjectId made when
        # its upload began); those whose document is missing are left over.
        started_before = ObjectId.from_datetime(docs.as_datetime(when))
        cursor = self._chunks.find(
            {"n": 0, "files_id": {"$lt": started_before}}, {"files_id": 1, "_id": 0}
        )
        dropped = 0
        batch: list[Any] = []
        async for chunk in cursor:
            batch.append(chunk["files_id"])
            if len(batch) >= _BATCH:
                dropped += await self._drop_orphans(batch)
                batch = []
        if batch:
            dropped += await self._drop_orphans(batch)
        return dropped

    async def _drop_orphans(self, file_ids: list[Any]) -> int:
        found = self._files.find({"_id": {"$in": file_ids}}, {"_id": 1})
        present = {doc["_id"] async for doc in found}
        orphans = [file_id for file_id in file_ids if file_id not in present]
        if orphans:
            await self._chunks.delete_many({"files_id": {"$in": orphans}})
        return len(orphans)

    async def _delete_matching(self, match: Doc) -> None:
        ids = [doc["_id"] async for doc in self._files.find(match, {"_id": 1})]
        if ids:
            await self._files.delete_many({"_id": {"$in": ids}})
            await self._chunks.delete_many({"files_id": {"$in": ids}})
