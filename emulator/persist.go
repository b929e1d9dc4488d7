package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/protobuf/proto"
)

// dataFile is the file in Options.DataDir holding the data.
const dataFile = "datastore-emulator.json"

// snapshot is the file's content. Each entity is a marshalled EntityResult:
// the entity with its full key, its version and its times.
type snapshot struct {
	Format   int      `json:"format"`
	Seq      int64    `json:"seq"`
	NextID   int64    `json:"next_id"`
	Entities [][]byte `json:"entities"`
}

// load reads d.file, if it exists, into an empty d.
func (d *db) load() error {
	b, err := os.ReadFile(d.file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%s: %v", d.file, err)
	}
	if s.Format != 1 {
		return fmt.Errorf("%s: unknown format %d", d.file, s.Format)
	}
	d.seq, d.nextID = s.Seq, s.NextID
	for _, raw := range s.Entities {
		var er pb.EntityResult
		if err := proto.Unmarshal(raw, &er); err != nil {
			return fmt.Errorf("%s: %v", d.file, err)
		}
		k := er.GetEntity().GetKey()
		r, _, err := resolve(k.GetPartitionId().GetProjectId(), k.GetPartitionId().GetDatabaseId(), k, false)
		if err != nil {
			return fmt.Errorf("%s: %v", d.file, err)
		}
		if d.parts[r.part] == nil {
			d.parts[r.part] = map[string]*record{}
		}
		d.parts[r.part][r.path] = &record{
			entity:  er.GetEntity(),
			path:    r.path,
			version: er.GetVersion(),
			created: er.GetCreateTime().AsTime(),
			updated: er.GetUpdateTime().AsTime(),
		}
	}
	return nil
}

// save writes the whole state to d.file atomically (write, sync, rename),
// when persistence is on. Callers hold d.mu.
func (d *db) save() error {
	if d.file == "" {
		return nil
	}
	s := snapshot{Format: 1, Seq: d.seq, NextID: d.nextID, Entities: [][]byte{}}
	for _, m := range d.parts {
		for _, rec := range m {
			raw, err := proto.Marshal(rec.result(rec.entity.GetKey(), false))
			if err != nil {
				return err
			}
			s.Entities = append(s.Entities, raw)
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(d.file), dataFile+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), d.file)
}
