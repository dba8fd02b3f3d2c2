"""A therapist's patients (admins see everyone's)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlmodel import col, func, select

from therapybridge.api.deps import CurrentUser, SessionDep, own_patient
from therapybridge.api.models import Message, PatientCreate, PatientList, PatientPublic
from therapybridge.api.routes.audit import record
from therapybridge.db import Patient

router = APIRouter(prefix="/api/patients", tags=["patients"])


@router.post("", response_model=PatientPublic, status_code=201, responses={401: {"model": Message}})
async def create_patient(body: PatientCreate, user: CurrentUser, db: SessionDep) -> Patient:
    patient = Patient(
        therapist_id=user.id,
        name=body.name,
        date_of_birth=body.date_of_birth.isoformat() if body.date_of_birth else None,
        external_id=body.external_id,
    )
    db.add(patient)
    await db.commit()
    return patient


@router.get("", response_model=PatientList, responses={401: {"model": Message}})
async def list_patients(
    user: CurrentUser,
    db: SessionDep,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> PatientList:
    mine = [] if user.role == "admin" else [col(Patient.therapist_id) == user.id]
    total = (await db.exec(select(func.count()).select_from(Patient).where(*mine))).one()
    query = select(Patient).where(*mine).order_by(col(Patient.name), col(Patient.id)).offset(offset).limit(limit)
    rows = (await db.exec(query)).all()
    await record(db, user, "patient.list")
    return PatientList(data=[PatientPublic.model_validate(p) for p in rows], count=total)


@router.get("/{patient_id}", response_model=PatientPublic, responses={401: {"model": Message}, 404: {"model": Message}})
async def get_patient(patient_id: str, user: CurrentUser, db: SessionDep) -> Patient:
    patient = await own_patient(db, user, patient_id)
    await record(db, user, "patient.read", patient_id=patient.id)
    return patient
